"""Deploy the synthesized stacks with Terraform: to AWS, or to the local emulator.

Kept free of cdktf imports: the constructs layer reads the emulator gaps from here.
"""
