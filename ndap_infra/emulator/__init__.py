"""The local AWS emulator: moto in server mode, started and stopped by ndap."""
