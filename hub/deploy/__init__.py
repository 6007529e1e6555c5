"""The production deployment: Kubernetes with the Strimzi operator. `hub deploy render` writes
`deploy/kubernetes/` from the settings, the routing policy and the register (via hub.access)."""

from hub.deploy.render import DEPLOY_DIR, RENDER_COMMAND, deployment_settings, render, stale, write

__all__ = ["DEPLOY_DIR", "RENDER_COMMAND", "deployment_settings", "render", "stale", "write"]
