//! User accounts: email as a validated domain type, roles, argon2id password hashes, and
//! the patient record every patient account has.

use std::fmt;

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::ids::UserId;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error("a user with this email already exists")]
    DuplicateEmail,
    #[error("a user with this phone number already exists")]
    DuplicatePhone,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: &'static str) -> UserError {
    UserError::Invalid { field, message }
}

/// A syntactically plausible email address, trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(try_from = "String", into = "String")]
#[sqlx(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, UserError> {
        let email = raw.trim().to_lowercase();
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid("email", "must contain @"));
        };
        let plausible = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if plausible {
            Ok(Self(email))
        } else {
            Err(invalid("email", "is not a valid email address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = UserError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in international form: an optional `+` and 7 to 15 digits; spaces,
/// dashes, dots and parentheses are dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(try_from = "String", into = "String")]
#[sqlx(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, UserError> {
        let kept: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = kept.strip_prefix('+').unwrap_or(&kept);
        if (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(kept))
        } else {
            Err(invalid(
                "phone",
                "must be 7 to 15 digits, optionally starting with +",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = UserError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> Self {
        phone.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "user_role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Patient,
    Clinician,
    Admin,
}

impl std::str::FromStr for Role {
    type Err = UserError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "patient" => Ok(Role::Patient),
            "clinician" => Ok(Role::Clinician),
            "admin" => Ok(Role::Admin),
            _ => Err(invalid("role", "must be patient, clinician or admin")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "user_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UserStatus {
    Active,
    PendingApproval,
    Disabled,
}

/// A user account, as stored and as the API shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<Phone>,
    pub role: Role,
    pub status: UserStatus,
    /// Named as in the HealthyPhysio API the dashboard was first written against.
    #[serde(rename = "date_joined")]
    pub created_at: DateTime<Utc>,
}

/// A user to create; fields are checked by [`create`].
pub struct NewUser {
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<Phone>,
    pub role: Role,
    pub status: UserStatus,
    pub password: Option<String>,
}

const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 256;
const MAX_NAME: usize = 100;

pub fn check_name(field: &'static str, value: &str) -> Result<String, UserError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_NAME || value.chars().any(char::is_control) {
        return Err(invalid(field, "must be at most 100 printable characters"));
    }
    Ok(value.to_owned())
}

/// An argon2id hash (PHC string) of `password`, computed off the async runtime.
pub async fn hash_password(password: String) -> Result<String, UserError> {
    let length = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) {
        return Err(invalid("password", "must be 8 to 256 characters"));
    }
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| UserError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| UserError::Hash(e.to_string()))?
}

/// Checks `password` against a stored PHC hash, off the async runtime.
pub async fn verify_password(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Creates a user, and the patient record when the role is patient.
pub async fn create(pool: &PgPool, new: NewUser) -> Result<User, UserError> {
    let first_name = check_name("first_name", &new.first_name)?;
    let last_name = check_name("last_name", &new.last_name)?;
    let password_hash = match new.password {
        Some(password) => Some(hash_password(password).await?),
        None => None,
    };
    let mut tx = pool.begin().await?;
    let user = sqlx::query_as::<_, User>(
        "INSERT INTO users (id, email, first_name, last_name, phone, role, status, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id, email, first_name, last_name, phone, role, status, created_at",
    )
    .bind(UserId::new())
    .bind(&new.email)
    .bind(first_name)
    .bind(last_name)
    .bind(new.phone)
    .bind(new.role)
    .bind(new.status)
    .bind(password_hash)
    .fetch_one(&mut *tx)
    .await
    .map_err(classify)?;
    if user.role == Role::Patient {
        sqlx::query("INSERT INTO patients (user_id) VALUES ($1)")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// A database error on `users`, with unique-key violations named.
pub fn classify(e: sqlx::Error) -> UserError {
    match e.as_database_error().and_then(|d| d.constraint()) {
        Some("users_email_key") => UserError::DuplicateEmail,
        Some("users_phone_key") => UserError::DuplicatePhone,
        _ => UserError::Db(e),
    }
}

pub async fn find_by_email(pool: &PgPool, email: &Email) -> Result<Option<User>, UserError> {
    Ok(sqlx::query_as::<_, User>(
        "SELECT id, email, first_name, last_name, phone, role, status, created_at
         FROM users WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.ORG ").unwrap().as_str(),
            "ada@example.org"
        );
        for bad in [
            "",
            "ada",
            "@example.org",
            "ada@",
            "ada@example",
            "a b@example.org",
            "ada@@example.org",
            "ada@.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phones_are_normalised_and_checked() {
        assert_eq!(
            Phone::parse(" +44 (20) 7946-0958 ").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(Phone::parse("5550100").unwrap().as_str(), "5550100");
        for bad in [
            "",
            "+",
            "123456",
            "1234567890123456",
            "555-CALL-NOW",
            "++4420794609",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse".into(), hash.clone()).await);
        assert!(!verify_password("wrong horse!".into(), hash.clone()).await);
        assert!(!verify_password("correct horse".into(), "garbage".into()).await);
        assert!(hash_password("short".into()).await.is_err());
    }
}
