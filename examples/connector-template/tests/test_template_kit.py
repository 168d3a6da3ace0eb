"""recordgate's conformance kit against the template connector and its emulator."""

from recordgate_template.testing import TemplateHarness

from gateway.testing.suite import *  # noqa: F403  (every kit test is collected here)

RECORDGATE_HARNESSES = [TemplateHarness]
