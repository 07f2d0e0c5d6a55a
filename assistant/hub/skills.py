"""GET/POST /v1/skills: what each skill may do, and switching skills on (after consent) or off."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from assistant.hub.deps import DeviceDep, HubDep
from assistant.hub.models import SkillChange, SkillChangeOut, SkillOut, SkillsOut
from assistant.sdk import PERMISSIONS
from assistant.skills.registry import LoadedSkill
from assistant.skills.state import SkillStates

router = APIRouter(prefix="/v1", tags=["skills"])


def _plain(loaded: LoadedSkill) -> list[str]:
    return [PERMISSIONS.get(p, p) for p in sorted(loaded.cls.permissions)]


@router.get("/skills")
async def list_skills(hub: HubDep, device: DeviceDep) -> SkillsOut:
    states = SkillStates(hub.app.db.data_dir)
    dispatcher = hub.app.dispatcher
    out = []
    for loaded, enabled in [(s, True) for s in dispatcher.skills] + [(s, False) for s in dispatcher.disabled]:
        wanted = states.enabled(loaded.name, loaded.builtin)
        if enabled:
            state = "on"
        elif wanted:
            state = "enabled; starts with the next start of the hub"
        else:
            state = states.reason(loaded.name) or "off until you enable it"
        out.append(
            SkillOut(
                name=loaded.name,
                version=str(loaded.cls.version),
                description=loaded.cls.description or "",
                builtin=loaded.builtin,
                enabled=enabled,
                permissions=_plain(loaded),
                status=state,
            )
        )
    return SkillsOut(skills=sorted(out, key=lambda s: (not s.builtin, s.name)))


@router.post("/skills", responses={202: {"model": SkillChangeOut, "description": "consent needed"}})
async def change_skill(change: SkillChange, hub: HubDep, device: DeviceDep, response: Response) -> SkillChangeOut:
    """Disabling is immediate. Enabling answers 202 with the permissions in plain words and a consent
    token; the same request with that token enables the skill."""
    dispatcher = hub.app.dispatcher
    loaded = next((s for s in dispatcher.skills + dispatcher.disabled if s.name == change.name), None)
    if loaded is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no skill named '{change.name}' is installed")
    states = SkillStates(hub.app.db.data_dir)
    if not change.enabled:
        dispatcher.disable(loaded.name, "disabled by you")
        states.set(loaded.name, False, "disabled by you")
        return SkillChangeOut(name=loaded.name, enabled=False, done=True, message=f"'{loaded.name}' is off.")
    if loaded in dispatcher.skills or states.enabled(loaded.name, loaded.builtin):
        return SkillChangeOut(name=loaded.name, enabled=True, done=True, message=f"'{loaded.name}' is already on.")
    action = f"enable:{loaded.name}"
    if not hub.confirmations.take(device.name, action, change.consent):
        response.status_code = status.HTTP_202_ACCEPTED
        return SkillChangeOut(
            name=loaded.name,
            enabled=False,
            done=False,
            permissions=_plain(loaded) or ["nothing: it needs no permissions"],
            consent=hub.confirmations.issue(device.name, action),
            message=f"'{loaded.name}' {loaded.cls.version} asks to do the above. Send the consent token to agree.",
        )
    states.set(loaded.name, True, "enabled by you")
    return SkillChangeOut(
        name=loaded.name,
        enabled=True,
        done=True,
        permissions=_plain(loaded),
        message=f"'{loaded.name}' is enabled; it starts answering when the hub next starts (its phrases are learned then).",
    )
