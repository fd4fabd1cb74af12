//! Accounts through the real router on a real database: registration, login, refresh
//! rotation and reuse detection, lockout, disabled and pending accounts, logout,
//! password change, profile.

mod common;

use common::{Api, PASSWORD};
use healthsync_core::users::{Role, UserStatus};
use serde_json::{Value, json};

async fn login(api: &Api, identifier: &str, password: &str) -> (u16, Value) {
    api.post(
        "/api/auth/login",
        None,
        json!({"identifier": identifier, "password": password}),
    )
    .await
}

async fn attempts(api: &Api, email: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT outcome::text FROM login_attempts WHERE identifier = $1 ORDER BY id")
        .bind(email)
        .fetch_all(&api.db.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn register_login_refresh_and_reuse_of_a_rotated_token_revokes_the_family() {
    let api = Api::start().await;
    let (status, body) = api
        .post(
            "/api/auth/register",
            None,
            json!({"email": " Ada@Example.org ", "password": PASSWORD, "first_name": "Ada",
                   "last_name": "Lovelace", "role": "patient", "phone": "+44 20 7946 0958"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["email"], "ada@example.org");
    assert_eq!(body["user"]["phone"], "+442079460958");
    assert_eq!(body["user"]["status"], "active");

    // By email, and by phone.
    let (status, by_phone) = login(&api, "+442079460958", PASSWORD).await;
    assert_eq!(status, 200, "{by_phone}");
    let (status, session) = login(&api, "ada@example.org", PASSWORD).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["user"]["first_name"], "Ada");
    let access = session["access"].as_str().unwrap();
    let first_refresh = session["refresh"].as_str().unwrap();
    let (status, me) = api.get("/api/auth/profile", Some(access)).await;
    assert_eq!(
        (status, me["email"].as_str()),
        (200, Some("ada@example.org"))
    );

    // Rotation: each refresh token gives a new pair once.
    let (status, rotated) = api
        .post("/api/auth/refresh", None, json!({"refresh": first_refresh}))
        .await;
    assert_eq!(status, 200, "{rotated}");
    let second_refresh = rotated["refresh"].as_str().unwrap();
    let second_access = rotated["access"].as_str().unwrap();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(
        api.get("/api/auth/profile", Some(second_access)).await.0,
        200
    );

    // The first token again: the family is revoked, so the newest tokens die too.
    let (status, error) = api
        .post("/api/auth/refresh", None, json!({"refresh": first_refresh}))
        .await;
    assert_eq!(status, 401, "{error}");
    let (status, _) = api
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh": second_refresh}),
        )
        .await;
    assert_eq!(status, 401, "the successor of a reused token is revoked");
    assert_eq!(
        api.get("/api/auth/profile", Some(second_access)).await.0,
        401
    );
    assert_eq!(api.get("/api/auth/profile", Some(access)).await.0, 401);
    let reason: String = sqlx::query_scalar(
        "SELECT revoked_reason FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
         WHERE t.used_at IS NOT NULL LIMIT 1",
    )
    .fetch_one(&api.db.pool)
    .await
    .unwrap();
    assert_eq!(reason, "refresh_token_reuse");

    // The other session (logged in by phone) is a different family and still works.
    let other = by_phone["access"].as_str().unwrap();
    assert_eq!(api.get("/api/auth/profile", Some(other)).await.0, 200);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn five_failures_lock_the_account_and_every_attempt_is_recorded() {
    let api = Api::start().await;
    let person = api.user(Role::Patient, UserStatus::Active).await;
    for attempt in 1..=4 {
        let (status, body) = login(&api, &person.email, "wrong password").await;
        assert_eq!(status, 401, "attempt {attempt}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let (status, body) = login(&api, &person.email, "wrong password").await;
    assert_eq!(status, 423, "the fifth failure locks: {body}");
    assert_eq!(body["error"]["code"], "account_locked");
    // Locked: even the right password is refused, without being checked.
    let (status, _) = login(&api, &person.email, PASSWORD).await;
    assert_eq!(status, 423);
    assert_eq!(
        attempts(&api, &person.email).await,
        [
            "bad_password",
            "bad_password",
            "bad_password",
            "bad_password",
            "bad_password",
            "locked"
        ]
    );
    let locked_for: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM locked_until - now())::float8 FROM users WHERE id = $1",
    )
    .bind(person.id)
    .fetch_one(&api.db.pool)
    .await
    .unwrap();
    assert!(
        (14.0 * 60.0..=15.0 * 60.0).contains(&locked_for),
        "{locked_for}"
    );

    // When the lock has passed, the right password works and the count starts again.
    sqlx::query("UPDATE users SET locked_until = now() - interval '1 second' WHERE id = $1")
        .bind(person.id)
        .execute(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(login(&api, &person.email, PASSWORD).await.0, 200);
    assert_eq!(login(&api, &person.email, "wrong password").await.0, 401);
    let failed: i32 = sqlx::query_scalar("SELECT failed_logins FROM users WHERE id = $1")
        .bind(person.id)
        .fetch_one(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(failed, 1);

    // Found by Schemathesis: a NUL in the identifier once failed the login record (500).
    let (status, _) = login(&api, "nul\u{0}byte@example.org", PASSWORD).await;
    assert_eq!(status, 401);
    assert_eq!(
        attempts(&api, "nulbyte@example.org").await,
        ["unknown_identifier"]
    );

    // An unknown identifier gets the same answer as a wrong password, and is recorded.
    let (status, body) = login(&api, "nobody@example.org", PASSWORD).await;
    assert_eq!(
        (status, &body["error"]["message"]),
        (401, &json!("invalid credentials"))
    );
    assert_eq!(
        attempts(&api, "nobody@example.org").await,
        ["unknown_identifier"]
    );
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_user_is_refused_at_once_and_cannot_log_in() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let admin = api.session(&cast.admin).await;
    let (status, patient) = login(&api, &cast.patient_b.email, PASSWORD).await;
    assert_eq!(status, 200);
    let access = patient["access"].as_str().unwrap();
    let refresh = patient["refresh"].as_str().unwrap();
    assert_eq!(api.get("/api/auth/profile", Some(access)).await.0, 200);

    let path = format!("/api/admin/users/{}/disable", cast.patient_b.id);
    let (status, body) = api.post(&path, Some(&admin.access), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "disabled");

    // The access token (still within its 15 minutes) and the refresh token are dead.
    assert_eq!(api.get("/api/auth/profile", Some(access)).await.0, 401);
    let (status, _) = api
        .post("/api/auth/refresh", None, json!({"refresh": refresh}))
        .await;
    assert_eq!(status, 401);
    let (status, body) = login(&api, &cast.patient_b.email, PASSWORD).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["message"], "account disabled");
    assert_eq!(
        attempts(&api, &cast.patient_b.email).await,
        ["success", "disabled"]
    );
    // A wrong password for a disabled account says nothing about the account.
    assert_eq!(
        login(&api, &cast.patient_b.email, "wrong password").await.0,
        401
    );

    // An admin cannot disable themselves.
    let own = format!("/api/admin/users/{}/disable", cast.admin.id);
    assert_eq!(api.post(&own, Some(&admin.access), json!({})).await.0, 409);

    // Enabled again, the account logs in afresh.
    let path = format!("/api/admin/users/{}/enable", cast.patient_b.id);
    assert_eq!(api.post(&path, Some(&admin.access), json!({})).await.0, 200);
    assert_eq!(login(&api, &cast.patient_b.email, PASSWORD).await.0, 200);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clinician_waits_for_approval_and_admins_are_not_self_made() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let register = |role: &str, email: &str| {
        json!({"email": email, "password": PASSWORD, "first_name": "Gregory",
               "last_name": "House", "role": role})
    };
    let (status, body) = api
        .post(
            "/api/auth/register",
            None,
            register("admin", "boss@example.org"),
        )
        .await;
    assert_eq!((status, &body["error"]["field"]), (400, &json!("role")));

    let (status, body) = api
        .post(
            "/api/auth/register",
            None,
            register("clinician", "house@example.org"),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["status"], "pending_approval");
    let id = body["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = login(&api, "house@example.org", PASSWORD).await;
    assert_eq!(status, 403, "{body}");

    let admin = api.session(&cast.admin).await;
    let (status, pending) = api
        .get(
            "/api/admin/users?role=clinician&status=pending_approval",
            Some(&admin.access),
        )
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()), "{pending}");
    let approve = format!("/api/admin/users/{id}/approve");
    assert_eq!(
        api.post(&approve, Some(&admin.access), json!({})).await.0,
        200
    );
    assert_eq!(
        api.post(&approve, Some(&admin.access), json!({})).await.0,
        409,
        "approving twice is a conflict"
    );
    assert_eq!(login(&api, "house@example.org", PASSWORD).await.0, 200);

    // The same email again is a conflict, and changes nothing.
    let (status, body) = api
        .post(
            "/api/auth/register",
            None,
            register("patient", "HOUSE@example.org"),
        )
        .await;
    assert_eq!((status, &body["error"]["field"]), (409, &json!("email")));
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'house@example.org'")
            .fetch_one(&api.db.pool)
            .await
            .unwrap();
    assert_eq!(count, 1);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_and_password_change_end_sessions() {
    let api = Api::start().await;
    let person = api.user(Role::Patient, UserStatus::Active).await;
    let (_, one) = login(&api, &person.email, PASSWORD).await;
    let (_, two) = login(&api, &person.email, PASSWORD).await;
    let (_, three) = login(&api, &person.email, PASSWORD).await;
    let token = |s: &Value, k: &str| s[k].as_str().unwrap().to_owned();

    let (status, body) = api
        .post(
            "/api/auth/logout",
            None,
            json!({"refresh": token(&one, "refresh")}),
        )
        .await;
    assert_eq!((status, &body["success"]), (200, &json!("logged out")));
    assert_eq!(
        api.get("/api/auth/profile", Some(&token(&one, "access")))
            .await
            .0,
        401
    );
    assert_eq!(
        api.get("/api/auth/profile", Some(&token(&two, "access")))
            .await
            .0,
        200
    );

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (status, body) = api
        .post(
            "/api/auth/password",
            Some(&token(&two, "access")),
            change("wrong one!", "a new password"),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("current_password"))
    );
    let (status, body) = api
        .post(
            "/api/auth/password",
            Some(&token(&two, "access")),
            change(PASSWORD, "short"),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("new_password"))
    );
    let (status, _) = api
        .post(
            "/api/auth/password",
            Some(&token(&two, "access")),
            change(PASSWORD, "a new password"),
        )
        .await;
    assert_eq!(status, 200);
    // The session that changed it goes on; the others end.
    assert_eq!(
        api.get("/api/auth/profile", Some(&token(&two, "access")))
            .await
            .0,
        200
    );
    assert_eq!(
        api.get("/api/auth/profile", Some(&token(&three, "access")))
            .await
            .0,
        401
    );
    assert_eq!(login(&api, &person.email, PASSWORD).await.0, 401);
    assert_eq!(login(&api, &person.email, "a new password").await.0, 200);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_profile_changes_only_with_valid_input() {
    let api = Api::start().await;
    let person = api.user(Role::Clinician, UserStatus::Active).await;
    let other = api.user(Role::Patient, UserStatus::Active).await;
    let session = api.session(&person).await;
    let token = Some(session.access.as_str());

    let (status, body) = api
        .put(
            "/api/auth/profile",
            token,
            json!({"first_name": "Jo", "phone": "555 0100 99"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["first_name"], &body["phone"]),
        (&json!("Jo"), &json!("555010099"))
    );

    for (bad, field) in [
        (json!({"email": "not an email"}), "email"),
        (json!({"phone": "call me"}), "phone"),
        (json!({"first_name": ""}), "first_name"),
        (json!({"email": other.email}), "email"),
    ] {
        let (status, body) = api.put("/api/auth/profile", token, bad.clone()).await;
        assert!(matches!(status, 400 | 409), "{bad}: {status} {body}");
        assert_eq!(body["error"]["field"], field, "{bad}: {body}");
    }
    let (status, body) = api
        .put("/api/auth/profile", token, json!({"role": "admin"}))
        .await;
    assert_eq!(status, 400, "unknown fields are refused: {body}");
    let (_, me) = api.get("/api/auth/profile", token).await;
    assert_eq!(
        (&me["first_name"], &me["role"]),
        (&json!("Jo"), &json!("clinician"))
    );
    assert_eq!(me["email"], person.email.as_str());

    // null removes the phone; absent leaves it.
    let (_, body) = api
        .put("/api/auth/profile", token, json!({"phone": null}))
        .await;
    assert_eq!(body["phone"], Value::Null);
    let (status, body) = api
        .post("/api/auth/login", None, json!({"identifier": 5}))
        .await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid")));
    api.db.drop_database().await;
}
