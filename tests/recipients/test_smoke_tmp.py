import asyncio, json
from pathlib import Path
import pytest
from hub.bootstrap import build_hub
from hub.demo import KODA_SAMPLES
from hub.recipients.audit import MemoryAudit
from tests.e2e.harness import HubEnv, collect

pytestmark = [pytest.mark.kafka]

async def test_smoke(kafka, tmp_path):
    env = HubEnv(kafka.bootstrap_servers, tmp_path)
    await env.create_topics()
    audit = MemoryAudit()
    async with build_hub(env.settings(), audit=audit):
        docs = [p.read_bytes() for p in sorted(KODA_SAMPLES.glob("*.xml"))]
        await env.publish(docs)
        recs = await collect(kafka.bootstrap_servers, env.topic("out.police-register.v1"), until=lambda r: len(r) >= 11, timeout_s=60)
        for _ in range(40):
            if len(audit.items) >= 44: break
            await asyncio.sleep(0.5)
    for it in audit.items:
        print(it.stage, it.note)
    print(len(recs))
