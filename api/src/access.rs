//! The one authorization decision, made by every handler before it touches data:
//! a patient sees only their own record, a clinician only the patients on their care
//! team, an admin administers users and may read any patient; the symptom assistant is
//! the patient's alone — and every access to patient data, allowed or denied, is written
//! to the audit log.

use healthsync_core::audit::{Entry, Outcome};
use healthsync_core::ids::UserId;
use healthsync_core::users::Role;

use crate::AppState;
use crate::auth::caller::Caller;
use crate::error::ApiError;

/// What a caller wants to do.
#[derive(Clone, Debug)]
pub enum Action {
    /// Read or change their own account.
    OwnAccount { write: bool },
    /// Read or change one patient's data; `resource` names which (for the audit log).
    Patient {
        patient: UserId,
        write: bool,
        resource: &'static str,
    },
    /// Register, rename, re-key or revoke a patient's device: the patient or an admin
    /// (clinicians read devices, they do not hold their keys).
    ManageDevice {
        patient: UserId,
        /// The device, when it exists already.
        device: Option<String>,
    },
    /// Clinical work on a patient's alerts (acknowledge, resolve, set alert rules): the
    /// clinicians of the patient's care team only.
    Care {
        patient: UserId,
        action: &'static str,
        resource: &'static str,
        target: Option<String>,
    },
    /// Use the symptom assistant: a patient's own conversations, by that patient only (not
    /// their care team, not admins). `patient` is the owner of an existing conversation;
    /// `None` for the caller's own (listing, starting one).
    Assistant {
        patient: Option<UserId>,
        action: &'static str,
        target: Option<String>,
    },
    /// List the patients the caller may see.
    ListPatients,
    /// Administer users, care teams or the audit log.
    Administer {
        action: &'static str,
        resource: &'static str,
        target: Option<String>,
    },
}

/// The decision for `role`, given whether the caller is the patient concerned and
/// whether they are on that patient's care team.
fn allowed(role: Role, action: &Action, is_self: bool, on_care_team: bool) -> bool {
    match (action, role) {
        (Action::OwnAccount { .. }, _) => true,
        (Action::Patient { .. }, Role::Admin) => true,
        (Action::Patient { .. }, Role::Patient) => is_self,
        (Action::Patient { .. }, Role::Clinician) => on_care_team,
        (Action::ManageDevice { .. }, Role::Admin) => true,
        (Action::ManageDevice { .. }, Role::Patient) => is_self,
        (Action::ManageDevice { .. }, Role::Clinician) => false,
        (Action::Care { .. }, role) => role == Role::Clinician && on_care_team,
        (Action::Assistant { .. }, role) => role == Role::Patient && is_self,
        (Action::ListPatients, role) => role != Role::Patient,
        (Action::Administer { .. }, role) => role == Role::Admin,
    }
}

/// Allows or refuses `action` for `caller`, recording it in the audit log when it
/// concerns patient data or changes an account.
pub async fn authorize(state: &AppState, caller: &Caller, action: Action) -> Result<(), ApiError> {
    let patient = match &action {
        Action::Patient { patient, .. }
        | Action::ManageDevice { patient, .. }
        | Action::Care { patient, .. } => Some(*patient),
        Action::Assistant {
            patient: Some(patient),
            ..
        } => Some(*patient),
        Action::OwnAccount { .. } | Action::Assistant { patient: None, .. }
            if caller.role == Role::Patient =>
        {
            Some(caller.user_id)
        }
        _ => None,
    };
    let on_care_team = match (&action, caller.role) {
        (Action::Patient { patient, .. } | Action::Care { patient, .. }, Role::Clinician) => sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM care_team WHERE patient_id = $1 AND clinician_id = $2)",
        )
        .bind(patient)
        .bind(caller.user_id)
        .fetch_one(&state.pool)
        .await?,
        _ => false,
    };
    let ok = allowed(
        caller.role,
        &action,
        patient == Some(caller.user_id),
        on_care_team,
    );
    let (verb, resource, resource_id) = match &action {
        Action::OwnAccount { write } => (
            if *write { "update" } else { "read" },
            "account",
            Some(caller.user_id.to_string()),
        ),
        Action::Patient {
            patient,
            write,
            resource,
        } => (
            if *write { "update" } else { "read" },
            *resource,
            Some(patient.to_string()),
        ),
        Action::ManageDevice { device, .. } => ("update", "device", device.clone()),
        Action::Care {
            action,
            resource,
            target,
            ..
        } => (*action, *resource, target.clone()),
        Action::Assistant { action, target, .. } => {
            (*action, "assistant_conversation", target.clone())
        }
        Action::ListPatients => ("list", "patients", None),
        Action::Administer {
            action,
            resource,
            target,
        } => (*action, *resource, target.clone()),
    };
    // Reads of non-patient data by an admin (user lists) are not patient data; denials
    // and every change are always worth a row.
    let audited = patient.is_some()
        || !ok
        || matches!(action, Action::ListPatients)
        || !matches!(verb, "read" | "list");
    if audited {
        state
            .audit
            .record(Entry {
                actor: Some((caller.user_id, caller.role)),
                action: verb,
                resource,
                resource_id,
                patient_id: patient,
                outcome: if ok {
                    Outcome::Allowed
                } else {
                    Outcome::Denied
                },
                ip: caller.client.ip_text(),
            })
            .await?;
    }
    if ok {
        Ok(())
    } else {
        Err(ApiError::Forbidden("not allowed for this account"))
    }
}

/// What a missing record answers: 404 to an admin, who may see every record anyway; to
/// anyone else the same refusal as someone else's record, so ids cannot be probed.
pub fn missing(caller: &Caller, what: &'static str) -> ApiError {
    match caller.role {
        Role::Admin => ApiError::NotFound(what),
        _ => ApiError::Forbidden("not allowed for this account"),
    }
}

/// Whose records a list may show, decided and audited like any access: one patient's
/// (the one asked for, or a patient caller's own), or every patient a clinician or admin
/// may see.
#[derive(Clone, Copy, Debug)]
pub struct ListScope {
    /// One patient, the caller allowed to read their `resource`.
    pub patient: Option<UserId>,
    /// No patient asked for: an admin sees all, a clinician their care team's.
    pub all: bool,
    pub clinician: UserId,
}

impl ListScope {
    /// The condition on `alias.patient_id` for this scope, binding `$1` (patient), `$2`
    /// (all) and `$3` (clinician).
    pub fn sql(alias: &str) -> String {
        format!(
            "($1::uuid IS NULL OR {alias}.patient_id = $1)
             AND ($2 OR $1::uuid IS NOT NULL
                  OR EXISTS (SELECT 1 FROM care_team c
                             WHERE c.patient_id = {alias}.patient_id AND c.clinician_id = $3))"
        )
    }
}

pub async fn list_scope(
    state: &AppState,
    caller: &Caller,
    asked: Option<UserId>,
    resource: &'static str,
) -> Result<ListScope, ApiError> {
    let patient = asked.or((caller.role == Role::Patient).then_some(caller.user_id));
    let action = match patient {
        Some(patient) => Action::Patient {
            patient,
            write: false,
            resource,
        },
        None => Action::ListPatients,
    };
    authorize(state, caller, action).await?;
    Ok(ListScope {
        patient,
        all: caller.role == Role::Admin,
        clinician: caller.user_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decision_table() {
        let read = Action::Patient {
            patient: UserId::new(),
            write: false,
            resource: "patient_profile",
        };
        let device = Action::ManageDevice {
            patient: UserId::new(),
            device: None,
        };
        let care = Action::Care {
            patient: UserId::new(),
            action: "acknowledge",
            resource: "alert",
            target: None,
        };
        let admin = Action::Administer {
            action: "update",
            resource: "user",
            target: None,
        };
        let assistant = Action::Assistant {
            patient: None,
            action: "create",
            target: None,
        };
        // (role, action, is self, on care team) -> allowed
        let cases = [
            (Role::Patient, &read, true, false, true),
            (Role::Patient, &read, false, false, false),
            (Role::Patient, &read, false, true, false),
            (Role::Clinician, &read, false, true, true),
            (Role::Clinician, &read, false, false, false),
            (Role::Admin, &read, false, false, true),
            (Role::Patient, &device, true, false, true),
            (Role::Patient, &device, false, false, false),
            (Role::Clinician, &device, false, true, false),
            (Role::Admin, &device, false, false, true),
            (Role::Clinician, &care, false, true, true),
            (Role::Clinician, &care, false, false, false),
            (Role::Patient, &care, true, false, false),
            (Role::Admin, &care, false, false, false),
            (Role::Patient, &Action::ListPatients, true, false, false),
            (Role::Clinician, &Action::ListPatients, false, false, true),
            (Role::Admin, &Action::ListPatients, false, false, true),
            (Role::Patient, &admin, true, false, false),
            (Role::Clinician, &admin, false, true, false),
            (Role::Admin, &admin, false, false, true),
            (Role::Patient, &assistant, true, false, true),
            (Role::Patient, &assistant, false, false, false),
            (Role::Clinician, &assistant, false, true, false),
            (Role::Admin, &assistant, false, false, false),
        ];
        for (role, action, is_self, team, expected) in cases {
            assert_eq!(
                allowed(role, action, is_self, team),
                expected,
                "{role:?} {action:?} self={is_self} team={team}"
            );
        }
    }
}
