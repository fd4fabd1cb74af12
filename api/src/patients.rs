//! Patients: the list a clinician (their care team's patients) or an admin (everyone)
//! may see, and each patient's profile — date of birth, sex, height, conditions,
//! medications, allergies and emergency contact.

use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use healthsync_core::ids::UserId;
use healthsync_core::users::{Email, Phone, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::access::{Action, authorize};
use crate::auth::caller::Caller;
use crate::error::{ApiError, Json, Path, Query};
use crate::pagination::{Page, PageParams};

const MAX_LIST_ITEMS: usize = 50;
const MAX_ITEM_CHARS: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_patients))
        .routes(routes!(get_patient, update_patient))
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct PatientSummary {
    id: UserId,
    email: Email,
    first_name: String,
    last_name: String,
    date_of_birth: Option<NaiveDate>,
    sex: Option<Sex>,
}

/// The patients the caller may see: a clinician's care-team patients, or every patient
/// for an admin. Patients are refused.
#[utoipa::path(get, path = "/api/patients", tag = "patients",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "One page of patients, by last name", body = Page<PatientSummary>),
        (status = 400, description = "Invalid paging", body = crate::error::ErrorBody),
    ))]
async fn list_patients(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<PatientSummary>>, ApiError> {
    let (limit, offset) = page.checked()?;
    authorize(&state, &caller, Action::ListPatients).await?;
    let rows: Vec<PatientSummary> = sqlx::query_as(
        "SELECT u.id, u.email, u.first_name, u.last_name, p.date_of_birth, p.sex
         FROM patients p JOIN users u ON u.id = p.user_id
         WHERE u.role = 'patient'
           AND ($1 OR EXISTS (SELECT 1 FROM care_team c
                              WHERE c.patient_id = p.user_id AND c.clinician_id = $2))
         ORDER BY u.last_name, u.first_name, u.id
         LIMIT $3 OFFSET $4",
    )
    .bind(caller.role == Role::Admin)
    .bind(caller.user_id)
    .bind(limit + 1)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page::from_rows(rows, limit, offset)))
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmergencyContact {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    phone: Phone,
    #[schema(min_length = 1, max_length = 100)]
    relationship: Option<String>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct CareTeamMember {
    id: UserId,
    first_name: String,
    last_name: String,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct PatientProfile {
    id: UserId,
    email: Email,
    first_name: String,
    last_name: String,
    phone: Option<Phone>,
    date_of_birth: Option<NaiveDate>,
    sex: Option<Sex>,
    height_cm: Option<f32>,
    conditions: Vec<String>,
    medications: Vec<String>,
    allergies: Vec<String>,
    #[sqlx(json(nullable))]
    emergency_contact: Option<EmergencyContact>,
    #[sqlx(skip)]
    care_team: Vec<CareTeamMember>,
    updated_at: DateTime<Utc>,
}

async fn load_profile(state: &AppState, id: UserId) -> Result<PatientProfile, ApiError> {
    let mut profile: PatientProfile = sqlx::query_as(
        "SELECT u.id, u.email, u.first_name, u.last_name, u.phone, p.date_of_birth, p.sex,
                p.height_cm, p.conditions, p.medications, p.allergies, p.emergency_contact,
                p.updated_at
         FROM patients p JOIN users u ON u.id = p.user_id
         WHERE p.user_id = $1 AND u.role = 'patient'",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::NotFound("patient"))?;
    profile.care_team = sqlx::query_as(
        "SELECT u.id, u.first_name, u.last_name
         FROM care_team c JOIN users u ON u.id = c.clinician_id
         WHERE c.patient_id = $1 AND u.status = 'active'
         ORDER BY u.last_name, u.first_name",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    Ok(profile)
}

/// One patient's profile.
#[utoipa::path(get, path = "/api/patients/{id}", tag = "patients",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient's user id")),
    responses(
        (status = 200, description = "The profile", body = PatientProfile),
        (status = 400, description = "Malformed id", body = crate::error::ErrorBody),
        (status = 404, description = "No such patient", body = crate::error::ErrorBody),
    ))]
async fn get_patient(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Json<PatientProfile>, ApiError> {
    authorize(
        &state,
        &caller,
        Action::Patient {
            patient: id,
            write: false,
            resource: "patient_profile",
        },
    )
    .await?;
    Ok(Json(load_profile(&state, id).await?))
}

/// Sex as recorded in a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

/// Changes to a profile; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientUpdate {
    /// Between 1900-01-01 and today.
    date_of_birth: Option<NaiveDate>,
    sex: Option<Sex>,
    #[schema(minimum = 30, maximum = 272)]
    height_cm: Option<f32>,
    /// Up to 50 entries of 1 to 200 characters each, like the other lists.
    #[schema(max_items = 50)]
    conditions: Option<Vec<String>>,
    #[schema(max_items = 50)]
    medications: Option<Vec<String>>,
    #[schema(max_items = 50)]
    allergies: Option<Vec<String>>,
    emergency_contact: Option<EmergencyContact>,
}

fn check_list(
    field: &'static str,
    items: Option<Vec<String>>,
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(items) = items else { return Ok(None) };
    if items.len() > MAX_LIST_ITEMS {
        return Err(ApiError::invalid(field, "at most 50 entries"));
    }
    items
        .into_iter()
        .map(|item| {
            let item = item.trim().to_owned();
            if item.is_empty()
                || item.chars().count() > MAX_ITEM_CHARS
                || item.chars().any(char::is_control)
            {
                Err(ApiError::invalid(
                    field,
                    "entries must be 1 to 200 printable characters",
                ))
            } else {
                Ok(item)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

impl PatientUpdate {
    /// Checks every field; nothing is written unless all are valid.
    fn validated(self) -> Result<Self, ApiError> {
        if let Some(dob) = self.date_of_birth {
            let today = Utc::now().date_naive();
            if dob > today || dob < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date") {
                return Err(ApiError::invalid(
                    "date_of_birth",
                    "must be between 1900-01-01 and today",
                ));
            }
        }
        if let Some(height) = self.height_cm
            && !(30.0..=272.0).contains(&height)
        {
            return Err(ApiError::invalid("height_cm", "must be 30 to 272"));
        }
        let emergency_contact = match self.emergency_contact {
            Some(mut contact) => {
                contact.name =
                    healthsync_core::users::check_name("emergency_contact", &contact.name)?;
                contact.relationship = match contact.relationship {
                    Some(r) => Some(healthsync_core::users::check_name("emergency_contact", &r)?),
                    None => None,
                };
                Some(contact)
            }
            None => None,
        };
        Ok(Self {
            conditions: check_list("conditions", self.conditions)?,
            medications: check_list("medications", self.medications)?,
            allergies: check_list("allergies", self.allergies)?,
            emergency_contact,
            ..self
        })
    }
}

/// Change a patient's profile: the patient, a clinician of their care team, or an admin.
#[utoipa::path(put, path = "/api/patients/{id}", tag = "patients",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The patient's user id")),
    request_body = PatientUpdate,
    responses(
        (status = 200, description = "The updated profile", body = PatientProfile),
        (status = 400, description = "Invalid field", body = crate::error::ErrorBody),
        (status = 404, description = "No such patient", body = crate::error::ErrorBody),
    ))]
async fn update_patient(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    Json(update): Json<PatientUpdate>,
) -> Result<Json<PatientProfile>, ApiError> {
    let update = update.validated()?;
    authorize(
        &state,
        &caller,
        Action::Patient {
            patient: id,
            write: true,
            resource: "patient_profile",
        },
    )
    .await?;
    let updated = sqlx::query(
        "UPDATE patients SET
             date_of_birth = COALESCE($2, date_of_birth),
             sex = COALESCE($3, sex),
             height_cm = COALESCE($4, height_cm),
             conditions = COALESCE($5, conditions),
             medications = COALESCE($6, medications),
             allergies = COALESCE($7, allergies),
             emergency_contact = COALESCE($8, emergency_contact),
             updated_at = now()
         WHERE user_id = $1
           AND EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'patient')",
    )
    .bind(id)
    .bind(update.date_of_birth)
    .bind(update.sex)
    .bind(update.height_cm)
    .bind(update.conditions)
    .bind(update.medications)
    .bind(update.allergies)
    .bind(update.emergency_contact.map(sqlx::types::Json))
    .execute(&state.pool)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::NotFound("patient"));
    }
    Ok(Json(load_profile(&state, id).await?))
}
