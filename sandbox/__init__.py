"""The sandbox LMS: an in-process site speaking Moodle 4.5's Web Services REST protocol.

In tests and in-process demos::

    lms = SandboxLms()                      # base site with the template course TPL-MODULE
    seed_recording_site(lms)                # optional: the site the contract was recorded on
    client = httpx.Client(base_url="http://sandbox", transport=lms.transport())
    token = lms.token_for("syncbot")        # also "limitedbot", "nhung.nth", "thao.gv"

As a local server: ``server, url = start_server(lms, "127.0.0.1", 8765)``.
"""

from sandbox.errors import MoodleError
from sandbox.faults import Fault, FaultKind
from sandbox.fixtures import seed_recording_site
from sandbox.lms import SandboxLms, TokenInfo
from sandbox.options import SandboxOptions
from sandbox.registry import REGISTRY
from sandbox.server import serve, serve_forever, start_server

__all__ = [
    "REGISTRY",
    "Fault",
    "FaultKind",
    "MoodleError",
    "SandboxLms",
    "SandboxOptions",
    "TokenInfo",
    "seed_recording_site",
    "serve",
    "serve_forever",
    "start_server",
]
