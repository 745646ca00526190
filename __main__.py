"""DocuStack's AWS organization foundation: one Pulumi program, one stack per account that holds state.

Thin on purpose: read the stack's typed settings once, compose the stack, export what operators need.
"""

import pulumi

from docustack import stacks

settings = stacks.load_settings()
stacks.refuse_placeholders_on_update(settings)
outputs = stacks.compose(settings)
for key, value in outputs.items():
    pulumi.export(key, value)
