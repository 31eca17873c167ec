"""Getting the app into an account, checked before it happens.

``deploy.preflight`` asks a real account, read-only, whether a first deploy can succeed there;
``deploy.rehearsal`` deploys every synthesized stack into a local emulator (moto, on
127.0.0.1) and asks the emulated services, not the stack status, what was created.
"""
