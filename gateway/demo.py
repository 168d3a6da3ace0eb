"""`gateway demo`: every registered emulator on loopback, and the gateway in front of them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.config.load import build_config, parse_yaml
from gateway.config.model import GatewayConfig
from gateway.http.protocol import HANDLER_ARGS, GatewayRunner
from gateway.registry import connector_types

__all__ = ["DEMO_KEY", "DEMO_ORG", "DEMO_YAML", "DemoHandle", "demo_config_text", "start_demo"]

DEMO_ORG = "demo"
DEMO_KEY = "demo-key"
# The repo's config/demo.yaml, read when present (a checkout or an editable install); a wheel has
# no config/ folder, so it falls back to DEMO_YAML, which a test keeps identical to the file.
DEMO_FILE = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"
DEMO_YAML = """\
# What `gateway demo` loads. Each ${DEMO_<TYPE>_URL} is the loopback origin (http://127.0.0.1:port)
# of that source type's emulator, started in-process; a source whose type has no emulator (or is
# not installed) is left out. Keep gateway/demo.py's DEMO_YAML identical to this file.
server: {host: 127.0.0.1, port: 8080, logLevel: info}
consumers:
  - name: demo
    apiKey: demo-key
    orgs: [demo]
sources:
  sugarcrm:
    type: sugarcrm
    baseUrl: ${DEMO_SUGARCRM_URL}/rest/v10
    timeout: 10
    retries: 2
    auth: {username: admin, password: admin, clientId: sugar, clientSecret: "", platform: base}
  slingr:
    type: slingr
    baseUrl: ${DEMO_SLINGR_URL}/dev/runtime/api
    timeout: 10
    retries: 2
    auth: {email: admin@example.com, password: admin}
    entities:                     # Slingr has no metadata API: the demo app's fields and types
      companies:
        fields:
          name: {type: text}
          state: {type: choice, options: [active, inactive, pending]}
          type: {type: choice, options: [a, b, c]}
          numberOfEmployees: {type: integer}
          isCustomer: {type: boolean}
          contactInformation: {type: nested_fields}
          contactInformation.phoneNumber: {type: phone}
          contactInformation.email: {type: email}
          addresses: {type: nested_fields, multiple: true}
          addresses.addressLine: {type: text, multiple: true}
          addresses.zipCode: {type: text, multiple: true}
          addresses.city: {type: text, multiple: true}
          addresses.state: {type: text, multiple: true}
          homepage: {type: url}
          taxId: {type: text}
          rating: {type: decimal}
          notes: {type: long_text}
          lastMeeting: {type: date_time}
          lastUpdate: {type: date_time}
          tags: {type: text, multiple: true}
          logo: {type: file}
      contacts:
        fields:
          firstName: {type: text}
          lastName: {type: text}
          email: {type: email}
          company: {type: relationship}
          company.id: {type: id}
          company.label: {type: text}
          birthDate: {type: date}
          numberOfSkills: {type: integer}
          phoneNumbers: {type: phone, multiple: true}
          customer: {type: boolean}
          lastContact: {type: date_time}
          photo: {type: file}
  dataservice:
    type: dataservice
    baseUrl: ${DEMO_DATASERVICE_URL}/demo/DefaultTenant
    timeout: 10
    retries: 2
    auth:
      tokenUrl: ${DEMO_DATASERVICE_URL}/identity_/connect/token
      clientId: recordgate
      clientSecret: recordgate-secret
      scope: DataService.Data.Read DataService.Data.Write DataService.Schema.Read
  all:                            # a view (spec §12): one entity over Sugar's and Slingr's
    type: view
    entities:
      customers:
        fields: {name: string, city: string, kind: string}   # Slingr's dates are epoch ms
        from:
          - source: sugarcrm
            entity: Accounts
            map: {name: name, city: billing_address_city, kind: industry}
          - source: slingr
            entity: companies
            map: {name: name, kind: type}                      # city absent: null
            where: [[{field: state, operator: "==", value: active}]]
"""

# One entity per demo source for the printed curl examples (demo data, not type dispatch).
EXAMPLE_ENTITY = {"sugarcrm": "Accounts", "slingr": "companies", "dataservice": "Olympics"}


def demo_config_text() -> str:
    try:
        return DEMO_FILE.read_text(encoding="utf-8")
    except OSError:
        return DEMO_YAML


def env_var(type_name: str) -> str:
    """``sugarcrm`` → ``DEMO_SUGARCRM_URL``."""
    return f"DEMO_{re.sub(r'[^A-Za-z0-9]', '_', type_name).upper()}_URL"


@dataclass
class DemoHandle:
    """A running demo: the gateway's URL, each emulator's origin by type, and how to stop it all."""

    url: str
    config: GatewayConfig
    emulators: Mapping[str, str]
    banners: Mapping[str, str]
    _runners: list[web.AppRunner] = field(default_factory=list, repr=False)

    async def close(self, hurry: asyncio.Event | None = None) -> None:
        """Stop the gateway as ``gateway serve`` does (drain, writes in flight finish; ``hurry``
        ends the drain early), then the emulators, which the gateway's writes may still need."""
        for runner in reversed(self._runners):
            if isinstance(runner, GatewayRunner):
                await runner.stop(hurry)
            else:
                await runner.cleanup()
        self._runners.clear()

    def curl_examples(self) -> list[str]:
        auth = f"-H 'Authorization: Bearer {DEMO_KEY}'"
        lines = [f"curl -s '{self.url}/v1/sources?orgId={DEMO_ORG}' {auth}"]
        for source in self.config.sources:
            entity = EXAMPLE_ENTITY.get(source)
            if entity is not None:
                lines.append(
                    f"curl -s -X POST '{self.url}/v1/records/{source}/{entity}/query"
                    f"?orgId={DEMO_ORG}' {auth} -H 'Content-Type: application/json'"
                    " -d '{\"pageSize\": 5}'"
                )
        return lines


async def _start(app: web.Application, host: str, port: int,
                 runner_class: type[web.AppRunner] = web.AppRunner) -> tuple[web.AppRunner, int]:
    # The gateway writes its own access line; aiohttp's would duplicate it. The emulators get
    # the gateway's parser bounds too: harmless for them, and one less difference to explain
    # (but not its GatewayRunner: they answer bad requests as their backends would).
    runner = runner_class(app, access_log=None, **HANDLER_ARGS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound: Any = runner.addresses[0]
    return runner, int(bound[1])


def _keep_emulated(data: Any, emulated: Mapping[str, str]) -> Any:
    """Drop sources whose type has no running emulator (their ${DEMO_*_URL} would be unset),
    and views with a member among them."""
    if isinstance(data, dict) and isinstance(data.get("sources"), dict):
        kept = {
            name: source
            for name, source in data["sources"].items()
            if not isinstance(source, dict) or source.get("type") in (*emulated, "view")
        }
        data["sources"] = {
            name: source for name, source in kept.items()
            if not isinstance(source, dict) or source.get("type") != "view"
            or all(isinstance(m, dict) and m.get("source") in kept
                   for e in (source.get("entities") or {}).values() if isinstance(e, dict)
                   for m in e.get("from") or ())
        }
    return data


async def start_demo(host: str = "127.0.0.1", port: int = 8080) -> DemoHandle:
    """Start each registered type's emulator on a free loopback port, then the gateway on ``port``.

    Raises ConfigError if the demo config does not validate against the installed connectors.
    """
    from gateway.http.app import create_app  # the HTTP layer is only needed once we serve

    runners: list[web.AppRunner] = []
    try:
        origins: dict[str, str] = {}
        banners: dict[str, str] = {}
        for type_name, kind in connector_types().items():
            if kind.emulator is None:
                continue
            runner, bound = await _start(kind.load_emulator()(), "127.0.0.1", 0)
            runners.append(runner)
            origins[type_name] = f"http://127.0.0.1:{bound}"
            banners[type_name] = kind.emulator_banner
        env = {env_var(type_name): origin for type_name, origin in origins.items()}
        name = str(DEMO_FILE) if DEMO_FILE.exists() else "<gateway.demo.DEMO_YAML>"
        data = _keep_emulated(parse_yaml(demo_config_text(), name), origins)
        config = build_config(data, name, env)
        config = config.model_copy(
            update={"server": config.server.model_copy(update={"host": host, "port": port})}
        )
        runner, bound = await _start(create_app(config), host, port, GatewayRunner)
        runners.append(runner)
    except BaseException:
        for runner in reversed(runners):
            await runner.cleanup()
        raise
    shown = f"[{host}]" if ":" in host else host
    return DemoHandle(f"http://{shown}:{bound}", config, origins, banners, runners)
