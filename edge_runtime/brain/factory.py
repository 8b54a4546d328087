"""The brain's parts from settings: the policy, the small LLM, the cloud link. Read once at start."""

from __future__ import annotations

import asyncio

from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.brain.escalate import Escalator
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.brain.router import Brain, BrainPolicy
from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from edge_runtime.skills.builtin import BuiltinSkills
from models.llm import LLM, LlamaLLM
from models.registry import Registry


def policy_from(settings: EdgeSettings) -> BrainPolicy:
    return BrainPolicy(settings.intent_min_confidence, settings.confirm_class_set, settings.confirm_all_actions)


def load_llm(settings: EdgeSettings, registry: Registry) -> LLM | None:
    """The hub's small LLM, or None when it is switched off. A missing model fails loudly."""
    if not settings.llm_enabled:
        return None
    llm = LlamaLLM(registry, settings.llm_model, threads=settings.llm_threads)
    llm.warm_up()
    return llm


def escalator_from(settings: EdgeSettings) -> Escalator | None:
    """The cloud link if this hub has an identity; the brain says "not linked" otherwise."""
    from edge_runtime.cloud_client import CloudClient

    if not settings.cloud_escalation:
        return None
    files = HubFiles(settings.config_dir, settings.data_dir)
    identity = files.identity()
    if identity is None:
        return None
    client = CloudClient(settings.cloud_url, files, timeout_s=settings.cloud_first_reply_s)

    async def token() -> str:
        return await asyncio.to_thread(client.hub_token)  # reads, and refreshes, the credentials file

    return Escalator(
        settings.cloud_url,
        identity.hub_id,
        token,
        first_reply_s=settings.cloud_first_reply_s,
        total_s=settings.cloud_total_s,
    )


def brain_from(
    settings: EdgeSettings,
    skills: BuiltinSkills,
    devices: DeviceSkill | None,
    llm: LLM | None,
    cloud: Escalator | None,
    memory: LocalMemory | None = None,
    user_name: str | None = None,
) -> Brain:
    return Brain(
        skills,
        devices,
        llm=llm,
        cloud=cloud,
        policy=policy_from(settings),
        language=settings.language,
        memory=memory,
        user_name=user_name,
    )
