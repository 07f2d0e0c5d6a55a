"""GET/POST /v1/skills: what each skill may do, and switching skills on (after consent) or off."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from assistant.hub.deps import DeviceDep, Hub, HubDep
from assistant.hub.models import SkillChange, SkillChangeOut, SkillOut, SkillsOut
from assistant.hub.pairing import Device
from assistant.skills import consent
from assistant.skills.registry import LoadedSkill
from assistant.skills.state import SkillStates

router = APIRouter(prefix="/v1", tags=["skills"])
ACCESSES_SHOWN = 5


def _plain(loaded: LoadedSkill) -> list[str]:
    return [consent.plain_words(p) for p in sorted(loaded.permissions)]


@router.get("/skills")
async def list_skills(hub: HubDep, device: DeviceDep) -> SkillsOut:
    return await hub.run(_skills, hub, device)  # the store and the access log are read: off the event loop


def _skills(hub: Hub, device: Device) -> SkillsOut:
    states = SkillStates(hub.app.db)
    dispatcher = hub.app.dispatcher
    log = hub.app.access_log
    user = device.user or ""  # a household device sees the household's own entries, never a member's
    out = []
    for loaded, enabled in [(s, True) for s in dispatcher.skills] + [(s, False) for s in dispatcher.disabled]:
        if enabled:
            state = "on"
        else:
            verdict = consent.check(states, loaded.name, loaded.version, loaded.permissions, loaded.builtin)
            state = "enabled; starts with the next start of the hub" if verdict.allowed else verdict.status
        out.append(
            SkillOut(
                name=loaded.name,
                version=loaded.version,
                description=loaded.description,
                builtin=loaded.builtin,
                enabled=enabled,
                permissions=_plain(loaded),
                status=state,
                accessed=[
                    f"{a.at:%Y-%m-%d %H:%M} {a.summary}"
                    for a in log.entries(loaded.name, user=user, limit=ACCESSES_SHOWN)
                ],
            )
        )
    return SkillsOut(skills=sorted(out, key=lambda s: (not s.builtin, s.name)))


@router.post("/skills", responses={202: {"model": SkillChangeOut, "description": "consent needed"}})
async def change_skill(change: SkillChange, hub: HubDep, device: DeviceDep, response: Response) -> SkillChangeOut:
    """Disabling is immediate. Enabling answers 202 with the permissions in plain words and a consent
    token; the same request with that token enables the skill."""
    if device.user is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"'{device.name}' is a household device: switch skills on or off for everyone from a member's "
            "device or with 'assistant skills enable/disable'",
        )
    dispatcher = hub.app.dispatcher
    loaded = next((s for s in dispatcher.skills + dispatcher.disabled if s.name == change.name), None)
    if loaded is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no skill named '{change.name}' is installed")
    states = SkillStates(hub.app.db)
    if not change.enabled:
        await hub.run(_disable, hub, loaded)  # stops its worker (up to 5 s) and writes the store
        return SkillChangeOut(name=loaded.name, enabled=False, done=True, message=f"'{loaded.name}' is off.")
    permissions = frozenset(loaded.permissions)
    verdict = await hub.run(consent.check, states, loaded.name, loaded.version, permissions, loaded.builtin)
    if verdict.allowed:
        return SkillChangeOut(name=loaded.name, enabled=True, done=True, message=f"'{loaded.name}' is already on.")
    try:
        ask = await hub.run(consent.request, states, loaded, dispatcher.skills + dispatcher.disabled)
    except consent.ConsentRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    action = f"enable:{loaded.name}"
    if not hub.confirmations.take(device.principal.key, action, change.consent):
        response.status_code = status.HTTP_202_ACCEPTED
        return SkillChangeOut(
            name=loaded.name,
            enabled=False,
            done=False,
            permissions=ask.words,
            consent=hub.confirmations.issue(device.principal.key, action),
            message=f"'{loaded.name}' {loaded.version} asks to do the above. Send the consent token to agree.",
        )
    await hub.run(consent.agree, states, loaded)
    return SkillChangeOut(
        name=loaded.name,
        enabled=True,
        done=True,
        permissions=_plain(loaded),
        message=f"'{loaded.name}' is enabled; it starts answering when the hub next starts (its phrases are learned then).",
    )


def _disable(hub: Hub, loaded: LoadedSkill) -> None:
    hub.app.dispatcher.disable(loaded.name, "disabled by you")
    SkillStates(hub.app.db).set(loaded.name, False, "disabled by you")
