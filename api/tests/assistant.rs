//! The symptom assistant's conversations through the real router, with the real model
//! (installed by deploy/setup.sh, loaded once for this binary): emergencies, answers to
//! questions, the patient's own vitals raising triage (and COPD on their record lowering
//! the saturation that does), who may see a conversation, input refused with nothing
//! stored, the model missing, provider recommendations, and concurrent messages to one
//! conversation taking turns.

mod common;

use std::collections::BTreeSet;

use common::{Api, Person};
use healthsync_analytics::assistant::knowledge::Sex;
use healthsync_core::ids::DeviceId;
use serde_json::{Value, json};
use uuid::Uuid;

const CONVERSATIONS: &str = "/api/assistant/conversations";

fn messages_path(conversation: &Value) -> String {
    format!(
        "{CONVERSATIONS}/{}/messages",
        conversation.as_str().unwrap()
    )
}

async fn token(api: &Api, person: &Person) -> String {
    api.session(person).await.access
}

/// Starts a conversation of `token`'s patient with `content`; the 201 body.
async fn start(api: &Api, token: &str, content: &str) -> Value {
    let (status, body) = api
        .post(CONVERSATIONS, Some(token), json!({"content": content}))
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn message_count(api: &Api, conversation: Uuid) -> (i32, i64) {
    let counted: i32 =
        sqlx::query_scalar("SELECT message_count FROM assistant_conversations WHERE id = $1")
            .bind(conversation)
            .fetch_one(&api.db.pool)
            .await
            .unwrap();
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM assistant_messages WHERE conversation_id = $1")
            .bind(conversation)
            .fetch_one(&api.db.pool)
            .await
            .unwrap();
    (counted, stored)
}

fn level(reply: &Value) -> &str {
    reply["triage"]["level"].as_str().unwrap()
}

fn labels(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn uuid(value: &Value) -> Uuid {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_emergency_gets_emergency_triage_no_question_and_no_providers() {
    let api = Api::with_assistant(common::assistant().await).await;
    let cast = api.cast().await;
    // Somebody in the directory has the emergency specialty: still not listed.
    let admin = token(&api, &cast.admin).await;
    let path = format!("/api/admin/users/{}/specialty", cast.clinician_of_a.id);
    let (status, body) = api
        .put(
            &path,
            Some(&admin),
            json!({"specialty": "emergency_medicine"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let patient = token(&api, &cast.patient_a).await;
    let text = "crushing chest pain and I'm sweating";
    let started = start(&api, &patient, text).await;
    let reply = &started["reply"];
    assert!(
        ["emergency", "emergency_ambulance"].contains(&level(reply)),
        "{reply}"
    );
    assert!(reply.get("question").is_none(), "{reply}");
    assert_eq!(reply["done"], true);
    assert_eq!(reply["specialty"], "emergency_medicine");
    assert!(
        reply["disclaimer"]
            .as_str()
            .unwrap()
            .contains("not a diagnosis")
    );
    assert_eq!(started["providers"], json!([]));
    assert!(started["response_ms"].as_f64().unwrap() > 0.0);

    let (status, page) = api
        .get(&messages_path(&started["id"]), Some(&patient))
        .await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    assert!(page.get("next_offset").is_none());
    assert_eq!(items[0]["role"], "patient");
    assert_eq!(items[0]["content"], text);
    assert!(items[0].get("reply").is_none() && items[0].get("response_ms").is_none());
    assert_eq!(items[1]["role"], "assistant");
    assert_eq!(items[1]["id"], started["message_id"]);
    assert_eq!(&items[1]["reply"], reply);
    assert!(items[1]["response_ms"].as_f64().unwrap() > 0.0);
    assert!(items[1]["at"].as_str().unwrap() >= items[0]["at"].as_str().unwrap());

    let (status, list) = api.get(CONVERSATIONS, Some(&patient)).await;
    assert_eq!(status, 200, "{list}");
    // Newest first: this one, then the cast's empty one.
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list["items"][0]["id"], started["id"]);
    assert_eq!(list["items"][1]["id"], json!(cast.conversation_a));
    assert_eq!(list["items"][1]["message_count"], 0);
    assert_eq!(list["items"][0]["message_count"], 2);
    assert_eq!(list["items"][0]["last_triage"], reply["triage"]["level"]);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_counts_for_the_question_asked_and_is_refused_when_none_is() {
    let assistant = common::assistant().await;
    let api = Api::with_assistant(assistant.clone()).await;
    let cast = api.cast().await;
    let patient = token(&api, &cast.patient_a).await;

    // An empty conversation asked nothing yet.
    let (status, started) = api.post(CONVERSATIONS, Some(&patient), json!({})).await;
    assert_eq!(status, 201, "{started}");
    assert!(started.get("reply").is_none(), "{started}");
    assert_eq!(started["providers"], json!([]));
    let id = uuid(&started["id"]);
    let path = messages_path(&started["id"]);
    let (status, body) = api
        .post(&path, Some(&patient), json!({"answer": "yes"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(message_count(&api, id).await, (0, 0));

    let (status, first) = api
        .post(
            &path,
            Some(&patient),
            json!({"content": "I have a sore throat"}),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let question = &first["reply"]["question"];
    let symptom = question["symptom"]
        .as_str()
        .unwrap_or_else(|| panic!("{first}"));
    assert_eq!(question["choices"], json!(["yes", "no", "unsure"]));
    let label = &assistant
        .kb
        .symptoms
        .iter()
        .find(|s| s.id == symptom)
        .unwrap()
        .label;
    assert!(!labels(&first["reply"]["understood_present"]).contains(label));

    let (status, second) = api
        .post(&path, Some(&patient), json!({"answer": "yes"}))
        .await;
    assert_eq!(status, 200, "{second}");
    let present = labels(&second["reply"]["understood_present"]);
    assert!(present.contains(label), "{label} not in {present:?}");
    assert!(present.is_superset(&labels(&first["reply"]["understood_present"])));
    assert_eq!(message_count(&api, id).await, (4, 4));

    let (_, page) = api.get(&path, Some(&patient)).await;
    let items = page["items"].as_array().unwrap();
    let roles: Vec<&str> = items.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["patient", "assistant", "patient", "assistant"]);
    assert_eq!(items[2]["content"], "yes");
    assert_eq!(items[2]["answered"], symptom);
    assert!(items[0].get("answered").is_none());
    // Paged oldest first.
    let (_, page) = api.get(&format!("{path}?limit=3"), Some(&patient)).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert_eq!(page["next_offset"], 3);
    let (_, rest) = api
        .get(&format!("{path}?limit=3&offset=3"), Some(&patient))
        .await;
    assert_eq!(rest["items"][0]["id"], second["message_id"]);

    // After an emergency nothing is waiting for an answer.
    let (status, emergency) = api
        .post(
            &path,
            Some(&patient),
            json!({"content": "now I have crushing chest pain and I am sweating"}),
        )
        .await;
    assert_eq!(status, 200, "{emergency}");
    assert!(emergency["reply"].get("question").is_none(), "{emergency}");
    let (status, _) = api
        .post(&path, Some(&patient), json!({"answer": "no"}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(message_count(&api, id).await, (6, 6));
    api.db.drop_database().await;
}

/// An SpO2 reading of `patient`'s, `minutes_ago`.
async fn spo2(api: &Api, device: DeviceId, patient: &Person, value: f64, minutes_ago: i32) {
    sqlx::query(
        "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, seq)
         VALUES (now() - make_interval(mins => $4), $1, $2, 'spo2', $3, $5)",
    )
    .bind(device)
    .bind(patient.id)
    .bind(value)
    .bind(minutes_ago)
    .bind(i64::from(minutes_ago))
    .execute(&api.db.pool)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_patients_own_low_spo2_makes_a_mild_complaint_an_emergency() {
    let api = Api::with_assistant(common::assistant().await).await;
    let cast = api.cast().await;
    let complaint = "I have a bit of a cough";
    // A: SpO2 88 ten minutes ago (and a normal one since: the lowest counts).
    spo2(&api, cast.device_a, &cast.patient_a, 88.0, 10).await;
    spo2(&api, cast.device_a, &cast.patient_a, 97.0, 2).await;
    // B: SpO2 85, but three hours ago, outside the window.
    let device_b = api.device(&cast.patient_b).await;
    spo2(&api, device_b, &cast.patient_b, 85.0, 180).await;

    let a = token(&api, &cast.patient_a).await;
    let started = start(&api, &a, complaint).await;
    let reply = &started["reply"];
    assert_eq!(level(reply), "emergency", "{reply}");
    assert_eq!(reply["vitals"]["spo2_min"], 88.0);
    assert!(
        reply["triage"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("88")),
        "{reply}"
    );
    assert_eq!(started["providers"], json!([]));

    let b = token(&api, &cast.patient_b).await;
    let started = start(&api, &b, complaint).await;
    let reply = &started["reply"];
    assert!(
        !["emergency", "emergency_ambulance"].contains(&level(reply)),
        "{reply}"
    );
    assert_eq!(reply["vitals"]["spo2_min"], Value::Null);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn copd_on_the_patients_record_lowers_the_saturation_that_escalates() {
    let api = Api::with_assistant(common::assistant().await).await;
    let cast = api.cast().await;
    let device_b = api.device(&cast.patient_b).await;
    // Both at 90 %; only A's record says COPD.
    spo2(&api, cast.device_a, &cast.patient_a, 90.0, 10).await;
    spo2(&api, device_b, &cast.patient_b, 90.0, 10).await;
    sqlx::query("UPDATE patients SET conditions = $2 WHERE user_id = $1")
        .bind(cast.patient_a.id)
        .bind(vec!["Hypertension", "COPD"])
        .execute(&api.db.pool)
        .await
        .unwrap();
    let complaint = "I have a chesty cough";

    let a = token(&api, &cast.patient_a).await;
    let reply = &start(&api, &a, complaint).await["reply"];
    assert!(
        !["emergency", "emergency_ambulance"].contains(&level(reply)),
        "{reply}"
    );
    let understood = labels(&reply["understood_present"]);
    assert!(understood.contains("Known COPD"), "{understood:?}");
    assert!(
        !understood.iter().any(|l| l.contains("blood pressure")),
        "only history findings come from the record: {understood:?}"
    );

    let b = token(&api, &cast.patient_b).await;
    let reply = &start(&api, &b, complaint).await["reply"];
    assert_eq!(level(reply), "emergency", "{reply}");
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conversation_is_its_patients_alone() {
    let api = Api::with_assistant(common::assistant().await).await;
    let cast = api.cast().await;
    let a = token(&api, &cast.patient_a).await;
    let b = token(&api, &cast.patient_b).await;
    let path = format!("{CONVERSATIONS}/{}/messages", cast.conversation_a);
    let audit_before = api.audit_rows().await;

    // Another patient: as if it did not exist.
    let (status, body) = api.get(&path, Some(&b)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = api
        .post(&path, Some(&b), json!({"content": "I have a headache"}))
        .await;
    assert_eq!(status, 404);
    let missing = format!("{CONVERSATIONS}/{}/messages", Uuid::now_v7());
    assert_eq!(api.get(&missing, Some(&a)).await.0, 404);
    assert_eq!(
        api.post(&missing, Some(&a), json!({"content": "a headache"}))
            .await
            .0,
        404
    );
    // B's attempts are recorded as refusals concerning A.
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log
         WHERE actor_id = $1 AND patient_id = $2 AND resource = 'assistant_conversation'
           AND outcome = 'denied' AND resource_id = $3",
    )
    .bind(cast.patient_b.id)
    .bind(cast.patient_a.id)
    .bind(cast.conversation_a.to_string())
    .fetch_one(&api.db.pool)
    .await
    .unwrap();
    assert_eq!(refused, 2);
    assert!(api.audit_rows().await >= audit_before + 4);

    // Clinicians, even on the care team, and admins: refused.
    for person in [&cast.clinician_of_a, &cast.admin] {
        let t = token(&api, person).await;
        let (status, body) = api
            .post(
                CONVERSATIONS,
                Some(&t),
                json!({"content": "I have a headache"}),
            )
            .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
        assert_eq!(api.get(&path, Some(&t)).await.0, 403);
        assert_eq!(api.get(CONVERSATIONS, Some(&t)).await.0, 403);
    }
    assert_eq!(api.get(CONVERSATIONS, None).await.0, 401);
    assert_eq!(message_count(&api, cast.conversation_a).await, (0, 0));
    let conversations: i64 = sqlx::query_scalar("SELECT count(*) FROM assistant_conversations")
        .fetch_one(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(conversations, 1);

    // Each patient lists their own.
    start(&api, &b, "I have a headache").await;
    let (_, mine) = api.get(CONVERSATIONS, Some(&a)).await;
    let ids: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, [&json!(cast.conversation_a)]);
    assert!(mine["items"][0].get("last_triage").is_none());
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_messages_are_refused_and_store_nothing() {
    let api = Api::with_assistant(common::assistant().await).await;
    let cast = api.cast().await;
    let a = token(&api, &cast.patient_a).await;
    let path = format!("{CONVERSATIONS}/{}/messages", cast.conversation_a);
    let long = "a".repeat(2001);
    for bad in [
        json!({"content": "a headache", "answer": "yes"}),
        json!({}),
        json!({"content": null, "answer": null}),
        json!({"content": long}),
        json!({"content": "   \n\t "}),
        json!({"content": "a headache\u{0}"}),
        json!({"answer": "maybe"}),
        json!({"content": "a headache", "mood": "bad"}),
        json!({"content": 42}),
    ] {
        let (status, body) = api.post(&path, Some(&a), bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (_, both) = api
        .post(
            &path,
            Some(&a),
            json!({"content": "a headache", "answer": "yes"}),
        )
        .await;
    assert!(
        both["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not both"),
        "{both}"
    );
    let (_, long_body) = api.post(&path, Some(&a), json!({"content": long})).await;
    assert_eq!(long_body["error"]["field"], "content");
    for bad in [
        json!({"content": "a".repeat(2001)}),
        json!({"content": ""}),
        json!({"answer": "yes"}),
    ] {
        let (status, body) = api.post(CONVERSATIONS, Some(&a), bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert_eq!(message_count(&api, cast.conversation_a).await, (0, 0));
    // Held with another knowledge base, its stored indexes mean other symptoms: refused.
    sqlx::query("UPDATE assistant_conversations SET knowledge = 'older' WHERE id = $1")
        .bind(cast.conversation_a)
        .execute(&api.db.pool)
        .await
        .unwrap();
    let (status, body) = api
        .post(&path, Some(&a), json!({"content": "a headache"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("start a new conversation"),
        "{body}"
    );
    assert_eq!(message_count(&api, cast.conversation_a).await, (0, 0));
    let conversations: i64 = sqlx::query_scalar("SELECT count(*) FROM assistant_conversations")
        .fetch_one(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(conversations, 1);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_model_the_assistant_answers_503_with_what_to_install() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let a = token(&api, &cast.patient_a).await;
    let path = format!("{CONVERSATIONS}/{}/messages", cast.conversation_a);
    for (path, body) in [
        (
            CONVERSATIONS.to_owned(),
            json!({"content": "I have a headache"}),
        ),
        (CONVERSATIONS.to_owned(), json!({})),
        (path.clone(), json!({"content": "I have a headache"})),
    ] {
        let (status, answer) = api.post(&path, Some(&a), body).await;
        assert_eq!(status, 503, "{answer}");
        assert_eq!(answer["error"]["code"], "unavailable");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("deploy/setup.sh"), "{message}");
    }
    assert_eq!(message_count(&api, cast.conversation_a).await, (0, 0));
    let conversations: i64 = sqlx::query_scalar("SELECT count(*) FROM assistant_conversations")
        .fetch_one(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(conversations, 1);
    // Still refused to others first, and the history still readable.
    let clinician = token(&api, &cast.clinician_of_a).await;
    assert_eq!(
        api.post(CONVERSATIONS, Some(&clinician), json!({})).await.0,
        403
    );
    assert_eq!(api.get(&path, Some(&a)).await.0, 200);
    assert_eq!(api.get(CONVERSATIONS, Some(&a)).await.0, 200);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_recommend_clinicians_of_their_specialty_care_team_first() {
    let api = Api::with_assistant(common::assistant().await).await;
    let cast = api.cast().await;
    let admin = token(&api, &cast.admin).await;
    let a = token(&api, &cast.patient_a).await;
    let complaint = "itchy red rash on my arm for a week";
    let first = start(&api, &a, complaint).await;
    let specialty = first["reply"]["specialty"].as_str().unwrap().to_owned();
    assert!(
        !["emergency", "emergency_ambulance"].contains(&level(&first["reply"])),
        "{first}"
    );
    assert_ne!(specialty, "emergency_medicine");
    // Nobody in the directory yet.
    assert_eq!(first["providers"], json!([]));

    let set = |person: &Person, specialty: Value| {
        let path = format!("/api/admin/users/{}/specialty", person.id);
        let admin = admin.clone();
        let api = &api;
        async move {
            api.put(&path, Some(&admin), json!({"specialty": specialty}))
                .await
        }
    };
    // The clinician not on A's care team first, so the order is not insertion order.
    for person in [
        &cast.other_clinician,
        &cast.clinician_of_a,
        &cast.pending_clinician,
    ] {
        let (status, body) = set(person, json!(specialty)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["specialty"], json!(specialty));
        assert_eq!(body["id"], json!(person.id));
    }
    let started = start(&api, &a, complaint).await;
    assert_eq!(started["reply"]["specialty"], json!(specialty));
    let providers = started["providers"].as_array().unwrap();
    let listed: Vec<(&Value, &Value)> = providers
        .iter()
        .map(|p| (&p["id"], &p["on_care_team"]))
        .collect();
    // The pending clinician is not listed.
    assert_eq!(
        listed,
        [
            (&json!(cast.clinician_of_a.id), &json!(true)),
            (&json!(cast.other_clinician.id), &json!(false)),
        ],
        "{started}"
    );
    assert_eq!(providers[0]["specialty"], json!(specialty));
    assert_eq!(providers[0]["name"], "Test Clinician");
    // Another patient has nobody on their care team.
    let b = token(&api, &cast.patient_b).await;
    let other = start(&api, &b, complaint).await;
    assert_eq!(other["providers"][0]["on_care_team"], false);

    // Removing it takes them out of the directory.
    let (status, body) = set(&cast.other_clinician, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["specialty"], Value::Null);
    let again = start(&api, &a, complaint).await;
    assert_eq!(again["providers"].as_array().unwrap().len(), 1, "{again}");

    // Only clinicians have a specialty, and only well-formed ones.
    let (status, body) = set(&cast.patient_b, json!("dermatology")).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("clinician")
    );
    let (status, _) = set(&cast.admin, json!("dermatology")).await;
    assert_eq!(status, 409);
    for bad in [
        json!("Dermatology"),
        json!("x"),
        json!("skin doctor"),
        json!("a".repeat(41)),
        json!(7),
    ] {
        let (status, body) = set(&cast.clinician_of_a, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let path = format!("/api/admin/users/{}/specialty", cast.clinician_of_a.id);
    assert_eq!(api.put(&path, Some(&admin), json!({})).await.0, 400);
    let nobody = format!("/api/admin/users/{}/specialty", Uuid::now_v7());
    assert_eq!(
        api.put(&nobody, Some(&admin), json!({"specialty": "dermatology"}))
            .await
            .0,
        404
    );
    let specialty_of = |person: &Person| {
        sqlx::query_scalar::<_, Option<String>>("SELECT specialty FROM users WHERE id = $1")
            .bind(person.id)
            .fetch_one(&api.db.pool)
    };
    assert_eq!(specialty_of(&cast.patient_b).await.unwrap(), None);
    assert_eq!(
        specialty_of(&cast.clinician_of_a).await.unwrap(),
        Some(specialty.clone())
    );
    // A clinician who stops being one leaves the directory.
    let role = format!("/api/admin/users/{}/role", cast.clinician_of_a.id);
    let (status, _) = api.put(&role, Some(&admin), json!({"role": "admin"})).await;
    assert_eq!(status, 200);
    assert_eq!(specialty_of(&cast.clinician_of_a).await.unwrap(), None);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sex_in_the_profile_rules_conditions_in_or_out() {
    let assistant = common::assistant().await;
    let api = Api::with_assistant(assistant.clone()).await;
    let cast = api.cast().await;
    let complaint = "itching down below and a thick white discharge";
    let mut female_only = Vec::new();
    for (person, sex) in [(&cast.patient_a, "female"), (&cast.patient_b, "male")] {
        sqlx::query(
            "UPDATE patients SET sex = $2, date_of_birth = '1990-05-01' WHERE user_id = $1",
        )
        .bind(person.id)
        .bind(sex)
        .execute(&api.db.pool)
        .await
        .unwrap();
        let t = token(&api, person).await;
        let started = start(&api, &t, complaint).await;
        let count = started["reply"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                let id = c["id"].as_str().unwrap();
                assistant
                    .kb
                    .conditions
                    .iter()
                    .any(|k| k.id == id && k.sex == Sex::Female)
            })
            .count();
        female_only.push(count);
    }
    assert!(female_only[0] > 0, "{female_only:?}");
    assert_eq!(female_only[1], 0);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_messages_to_one_conversation_take_turns() {
    let api = Api::with_assistant(common::assistant().await).await;
    let cast = api.cast().await;
    let a = token(&api, &cast.patient_a).await;
    let path = format!("{CONVERSATIONS}/{}/messages", cast.conversation_a);
    let (one, two) = tokio::join!(
        api.post(&path, Some(&a), json!({"content": "I have a sore throat"})),
        api.post(&path, Some(&a), json!({"content": "my ear hurts"})),
    );
    assert_eq!((one.0, two.0), (200, 200), "{one:?} {two:?}");
    let (earlier, later) = if one.1["message_id"].as_i64() < two.1["message_id"].as_i64() {
        (one.1, two.1)
    } else {
        (two.1, one.1)
    };
    // The later turn saw the earlier one's evidence: no update was lost.
    let before = labels(&earlier["reply"]["understood_present"]);
    let after = labels(&later["reply"]["understood_present"]);
    assert!(!before.is_empty());
    assert!(
        after.is_superset(&before) && after.len() > before.len(),
        "{before:?} {after:?}"
    );
    let (_, page) = api.get(&path, Some(&a)).await;
    let roles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["patient", "assistant", "patient", "assistant"]);
    assert_eq!(message_count(&api, cast.conversation_a).await, (4, 4));
    api.db.drop_database().await;
}
