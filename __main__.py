"""DocuStack's AWS organization foundation: one Pulumi program, one stack per account that holds state.

Thin on purpose: read the stack's typed settings once, compose the stack, export what operators need.
"""

from pathlib import Path

import pulumi

from docustack import stacks

# The policy files are read from this project's policies/, whichever copy of the package is installed.
POLICY_DIR = Path(__file__).resolve().parent / "policies"

settings = stacks.load_settings(POLICY_DIR)
stacks.refuse_placeholders_on_update(settings)
outputs = stacks.compose(settings, POLICY_DIR)
for key, value in outputs.items():
    pulumi.export(key, value)
