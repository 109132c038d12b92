"""Read models of policies and the deploy gate, folded with the domain's own evolves:

  rm_policies            one row per policy (every version in `doc`)
  rm_policy_actions      one row per objective with policy actions (freezes, escalations,
                         postmortems, incidents in `doc`; open counts as columns)
  rm_freeze_scope        (objective, active freeze, service) rows: the gate's lookup
  rm_freeze_exceptions   one row per freeze exception, by service and expiry
  rm_deploy_decisions    one row per pipeline run judged

The gate (`service/gate.py`) reads these in one snapshot; a replay of a decision folds
the log instead, and both must give the same gate state.
"""

from __future__ import annotations

from domain import freeze_exception, gate, policy, policy_actions
from domain.budget.instants import to_us
from projections.documents import doc_json
from projections.entities import EntityProjection
from projections.tables import deploy_decisions, freeze_exceptions, freeze_scope, policies
from projections.tables import policy_actions as policy_actions_table
from domain import codec


def _policy_rows(state: policy.PolicyState, created: int) -> dict:
    return {policies: [{"id": state.id, "created_position": created, "version": state.version,
                        "doc": doc_json(policy.to_dict(state))}]}


def _actions_rows(state: policy_actions.ActionsState, created: int) -> dict:
    active = state.active_freezes
    return {
        policy_actions_table: [{
            "id": state.objective_id,
            "created_position": created,
            "active_freezes": len(active),
            "open_escalations": sum(1 for e in state.escalations if e.open),
            "open_postmortems": sum(1 for p in state.postmortems if p.open),
            "version": state.version,
            "doc": doc_json(policy_actions.to_dict(state)),
        }],
        freeze_scope: [
            {"objective_id": state.objective_id, "freeze_id": f.freeze_id, "service": s,
             "doc": doc_json(codec.encode(f))}
            for f in active for s in dict.fromkeys(f.services)
        ],
    }


def _exception_rows(state: freeze_exception.ExceptionState, created: int) -> dict:
    return {freeze_exceptions: [{
        "id": state.exception_id, "created_position": created, "service": state.service,
        "change_version": state.version_label, "expires_at_us": to_us(state.expires),
        "version": state.version, "doc": doc_json(freeze_exception.to_dict(state)),
    }]}


def _deploy_rows(state: gate.DeployState, created: int) -> dict:
    return {deploy_decisions: [{
        "id": state.pipeline_run_id, "created_position": created, "service": state.service,
        "outcome": state.outcome, "evaluated_at_position": state.evaluated_at_position, "at": state.at,
        "version": state.version, "doc": doc_json(gate.to_dict(state)),
    }]}


def projections() -> list[EntityProjection]:
    return [
        EntityProjection("policies", policy.CATEGORY, policies, policy.evolve, policy.to_dict,
                         policy.from_dict, _policy_rows),
        EntityProjection("policy_actions", policy_actions.CATEGORY, policy_actions_table, policy_actions.evolve,
                         policy_actions.to_dict, policy_actions.from_dict, _actions_rows,
                         side_tables=(freeze_scope,), side_key="objective_id"),
        EntityProjection("freeze_exceptions", freeze_exception.CATEGORY, freeze_exceptions, freeze_exception.evolve,
                         freeze_exception.to_dict, freeze_exception.from_dict, _exception_rows),
        EntityProjection("deploy_decisions", gate.CATEGORY, deploy_decisions, gate.evolve, gate.to_dict,
                         gate.from_dict, _deploy_rows),
    ]
