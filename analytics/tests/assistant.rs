//! The symptom assistant end to end with the real embedding model (installed by
//! `deploy/setup.sh`; a missing model fails with the install hint): negation, duration and
//! severity cues in free text, emergency patterns over the ranking, the patient's own
//! vitals escalating triage, and the question-and-answer turn.

use std::sync::OnceLock;

use healthsync_analytics::assistant::conversation::{Answer, Assistant, Input, State, TurnError};
use healthsync_analytics::assistant::knowledge::{Sex, Triage};
use healthsync_analytics::assistant::reasoning::{Profile, RecentVitals};

fn assistant() -> &'static Assistant {
    static ASSISTANT: OnceLock<Assistant> = OnceLock::new();
    ASSISTANT.get_or_init(|| Assistant::load().unwrap_or_else(|e| panic!("{e}")))
}

const ADULT: Profile = Profile {
    age: Some(35),
    sex: Some(Sex::Female),
};

fn say(state: &mut State, text: &str, vitals: RecentVitals) -> serde_json::Value {
    let (reply, _) = assistant()
        .turn(state, &Input::Text(text.into()), ADULT, vitals)
        .unwrap();
    serde_json::to_value(reply).unwrap()
}

fn labels(reply: &serde_json::Value, key: &str) -> Vec<String> {
    reply[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_lowercase())
        .collect()
}

#[test]
fn a_negation_rules_out_only_what_it_clearly_names() {
    let kb = &assistant().kb;
    let travel = kb.symptom("recent_travel_abroad").unwrap();
    let fever = kb.symptom("fever").unwrap();
    // "didn't finish the anti-malaria tablets" only resembles travel: it does not deny it.
    let found = assistant()
        .evidence("Back from Ghana last week, didn't finish the anti-malaria tablets, no fever")
        .unwrap();
    assert!(found.present.contains(&travel), "{found:?}");
    assert!(!found.absent.contains(&travel), "{found:?}");
    assert!(found.absent.contains(&fever), "{found:?}");
}

#[test]
fn negated_symptoms_count_as_absent_and_cues_are_read() {
    let mut state = State::default();
    let reply = say(
        &mut state,
        "I've had a bad cough for two weeks, but no fever and I haven't been sick.",
        RecentVitals::default(),
    );
    let present = labels(&reply, "understood_present");
    let absent = labels(&reply, "understood_absent");
    assert!(present.iter().any(|l| l.contains("cough")), "{present:?}");
    assert!(absent.iter().any(|l| l.contains("fever")), "{absent:?}");
    assert!(!present.iter().any(|l| l.contains("fever")), "{present:?}");
    assert_eq!(state.evidence.duration_days, Some(14));
    assert!(
        reply["disclaimer"]
            .as_str()
            .unwrap()
            .contains("not a diagnosis")
    );
}

#[test]
fn chest_pain_with_sweating_calls_an_ambulance_whatever_ranks_first() {
    let mut state = State::default();
    let reply = say(
        &mut state,
        "I've got a runny nose and a bit of a cold. Now there's a crushing pain in my chest and I'm sweating buckets.",
        RecentVitals::default(),
    );
    assert_eq!(reply["triage"]["level"], "emergency_ambulance", "{reply}");
    assert_eq!(
        reply["triage"]["emergency_pattern"],
        "acute_coronary_syndrome"
    );
    assert_eq!(reply["specialty"], "emergency_medicine");
    assert_eq!(reply["done"], true, "an emergency asks no more questions");
}

#[test]
fn suicidal_thoughts_get_crisis_advice() {
    let mut state = State::default();
    let reply = say(
        &mut state,
        "I keep thinking about killing myself.",
        RecentVitals::default(),
    );
    assert_eq!(reply["triage"]["crisis"], true, "{reply}");
    assert!(
        reply["triage"]["level"]
            .as_str()
            .unwrap()
            .starts_with("emergency")
    );
}

#[test]
fn low_oxygen_in_the_patients_own_readings_escalates() {
    let text = "I have a cough and a runny nose.";
    let calm = say(&mut State::default(), text, RecentVitals::default());
    let level: Triage = serde_json::from_value(calm["triage"]["level"].clone()).unwrap();
    assert!(level < Triage::Emergency, "{calm}");
    let low = RecentVitals {
        spo2_min: Some(88.0),
        ..RecentVitals::default()
    };
    let escalated = say(&mut State::default(), text, low);
    assert_eq!(escalated["triage"]["level"], "emergency", "{escalated}");
    assert_eq!(escalated["vitals"]["spo2_min"], 88.0);
    assert!(
        escalated["triage"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("88%")
    );
}

#[test]
fn a_question_is_asked_and_its_answer_becomes_evidence() {
    let assistant = assistant();
    let mut state = State::default();
    let reply = say(&mut state, "I have a sore throat.", RecentVitals::default());
    let question = reply["question"]["symptom"].as_str().unwrap().to_owned();
    assert_eq!(reply["done"], false);
    let symptom = assistant.kb.symptom(&question).unwrap();
    assert_eq!(state.pending, Some(symptom));
    let (_, _) = assistant
        .turn(
            &mut state,
            &Input::Answer(Answer::No),
            ADULT,
            RecentVitals::default(),
        )
        .unwrap();
    assert!(state.evidence.absent.contains(&symptom));
    assert_ne!(state.pending, Some(symptom), "not asked twice in a row");
    // An answer with no question waiting is refused and changes nothing.
    let mut fresh = State::default();
    let refused = assistant.turn(
        &mut fresh,
        &Input::Answer(Answer::Yes),
        ADULT,
        RecentVitals::default(),
    );
    assert!(matches!(refused, Err(TurnError::NoPendingQuestion)));
    assert_eq!(fresh, State::default());
}
