"""plan / apply / destroy: the deployment's units, in dependency order, with resumable steps.

Units come from the rendered deployment.json: the state backend, then every region (in
parallel), their monitoring hosts, then the global geo layer (plus, from progress.json, the
monitoring hosts being removed after monitoring was turned off); each kind of unit is one class
(units.py) that knows its steps and how to plan, apply and destroy them. A VM region's steps
are zone (Terraform: the Route 53 zone delegated from Cloudflare, for AWS regions behind the
global load balancer), image (Packer, for autoscaled flavours), infra (Terraform) and config
(Ansible, on the hosts Terraform reports). Earlier steps' outputs reach later Terraform runs as
variables (units.RUNTIME_VARS). Each step records a fingerprint of its inputs when it finishes,
so a re-run after a failure skips what is done and unchanged. Every invocation gets a run
folder that keeps each tool's full output.
"""

from iconctl.pipeline.orchestrator import Pipeline
from iconctl.pipeline.results import Report, StepResult
from iconctl.pipeline.units import KINDS, Unit
from iconctl.pipeline.workspace import Workspace

__all__ = ["KINDS", "Pipeline", "Report", "StepResult", "Unit", "Workspace"]
