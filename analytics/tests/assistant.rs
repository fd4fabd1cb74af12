//! The symptom assistant end to end with the real embedding model (installed by
//! `deploy/setup.sh`; a missing model fails with the install hint): negation, the part
//! of the body a clause is about, antonymous quantities, abilities, duration, severity
//! and pain painkillers do not ease in free text, emergency patterns over the ranking,
//! loosely matched signs confirmed first, the leading condition's red flags checked, a
//! baby's breathing pauses, an older person fallen and unable to get up, a head injury
//! with a warning sign, not passing urine at all, new floaters or flashes, an arm gone
//! like a dead weight (a stroke sign), a broken wrist told from a broken leg by the part
//! named, a swollen eyelid with a bulging or painful-to-move eye, more tablets taken
//! than a day's most, tablets gone missing (asked whether any were swallowed), tablets
//! saved up to take (a plan, whatever is answered about the thoughts), bouts of crying
//! with blood in the poo, a baby's level for a stomach bug or thrush (told by a parent
//! too), a rape told (and never guessed), bleeding told in pregnancy, a swallowed coin (a
//! drink is no overdose), the patient's own vitals escalating triage (at a lower
//! saturation with known COPD), the question-and-answer turn, self-care advice only short
//! of emergency care, a limb lain on and numb (pressure on a nerve, not a stroke),
//! hiccups and dandruff said by name, a red, hot joint with a fever (and a limb's heat no
//! fever), a cold had (no feeling of the cold), and the evaluation's simulated patient.

use std::sync::OnceLock;

use healthsync_analytics::assistant::body_sites::Sites;
use healthsync_analytics::assistant::conversation::{
    Answer, Assistant, Input, Reply, State, TurnError,
};
use healthsync_analytics::assistant::evaluation::{self, Protocol, Vignette};
use healthsync_analytics::assistant::knowledge::{Sex, Triage};
use healthsync_analytics::assistant::reasoning::{Evidence, Profile, RecentVitals};

fn assistant() -> &'static Assistant {
    static ASSISTANT: OnceLock<Assistant> = OnceLock::new();
    ASSISTANT.get_or_init(|| Assistant::load().unwrap_or_else(|e| panic!("{e}")))
}

/// What the assistant reads in a message.
fn evidence(text: &str) -> Evidence {
    assistant().evidence(text).unwrap()
}

/// A symptom's index in the knowledge base.
fn symptom(id: &str) -> usize {
    assistant().kb.symptom(id).unwrap()
}

const ADULT: Profile = aged(35, Sex::Female);

/// A patient of this age and sex.
const fn aged(age: u32, sex: Sex) -> Profile {
    Profile {
        age: Some(age),
        sex: Some(sex),
    }
}

fn say(state: &mut State, text: &str, vitals: RecentVitals) -> serde_json::Value {
    let (reply, _) = assistant()
        .turn(state, &Input::Text(text.into()), ADULT, vitals)
        .unwrap();
    serde_json::to_value(reply).unwrap()
}

/// The reply to a first message of `profile`, no vitals known.
fn reply_to(text: &str, profile: Profile) -> Reply {
    let input = Input::Text(text.into());
    let none = RecentVitals::default();
    let (reply, _) = assistant()
        .turn(&mut State::default(), &input, profile, none)
        .unwrap();
    reply
}

fn answer(state: &mut State, answer: Answer) -> Reply {
    let input = Input::Answer(answer);
    let (reply, _) = assistant()
        .turn(state, &input, ADULT, RecentVitals::default())
        .unwrap();
    reply
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
fn a_message_reads_the_same_whether_its_words_were_met_before_or_not() {
    // A fresh assistant has met none of the messages' words: the first reading embeds
    // them (the first message's few in its one batch, the second's many in a batch of
    // their own), the second finds them kept.
    let fresh = Assistant::load().unwrap();
    let text = "my tummy really hurts, throat feels scratchy and my kneecap throbs after \
                trampolining";
    let long = "since the zumba marathon my calves throb, the instructor's flamboyant \
                choreography left everyone shattered, and my wristband buzzes constantly";
    let first = fresh.evidence(text).unwrap();
    let first_long = fresh.evidence(long).unwrap();
    assert_eq!(first, fresh.evidence(text).unwrap());
    assert_eq!(first_long, fresh.evidence(long).unwrap());
    assert_eq!(
        first,
        evidence(text),
        "as read by an assistant that met other words"
    );
    assert_eq!(first_long, evidence(long));
    for clear in ["abdominal_pain", "sore_throat"] {
        assert!(
            first.present.contains(&symptom(clear)),
            "{clear}: {first:?}"
        );
        assert!(!first.loose.contains(&symptom(clear)), "{clear}: {first:?}");
    }
}

#[test]
fn a_negation_rules_out_only_what_it_clearly_names() {
    let travel = symptom("recent_travel_abroad");
    let fever = symptom("fever");
    // "didn't finish the anti-malaria tablets" only resembles travel: it does not deny it.
    let found =
        evidence("Back from Ghana last week, didn't finish the anti-malaria tablets, no fever");
    assert!(found.present.contains(&travel), "{found:?}");
    assert!(!found.absent.contains(&travel), "{found:?}");
    assert!(found.absent.contains(&fever), "{found:?}");
}

#[test]
fn a_clause_about_one_part_of_the_body_does_not_report_a_symptom_of_another() {
    let glands = symptom("swollen_glands");
    // Both were read as swollen glands in the neck, the knee's "it" included.
    let armpit = evidence("I've got a tender lump in my armpit");
    assert!(!armpit.present.contains(&glands), "{armpit:?}");
    let knee = evidence("I twisted my knee playing football, it's swollen");
    assert!(!knee.present.contains(&glands), "{knee:?}");
    assert!(!knee.present.contains(&symptom("swollen_gum")), "{knee:?}");
    // The neck's own glands still are, under the jaw too.
    let jaw = evidence("There are tender little bumps under my jaw on both sides");
    assert!(jaw.present.contains(&glands), "{jaw:?}");
    // A warning sign of another part is set aside too ("eye pain" was read in a wrist)…
    let wrist = evidence("my wrist hurts");
    assert!(!wrist.present.contains(&symptom("eye_pain")), "{wrist:?}");
    // An ache named for its part is of that part: a sore wrist is no headache.
    let headache = symptom("headache");
    let sore = evidence("Her wrist is swollen and really sore.");
    assert!(!sore.present.contains(&headache), "{sore:?}");
    assert!(evidence("a pounding headache").present.contains(&headache));
    // The parts a message is about are kept, not those only named to deny something.
    let denied = evidence("No tingling in my arms. My neck is stiff.");
    assert_eq!(denied.sites, Sites::named_in("neck"));
    // …but not one whose label names no part.
    let saddle = evidence("now numbness between my legs and around my bottom");
    assert!(
        saddle.present.contains(&symptom("saddle_numbness")),
        "{saddle:?}"
    );
    // One word of no part named is no symptom of one part: "swollen" after a sting had
    // read a swollen gum and the neck's glands, a denied "sore" a headache.
    let sting = evidence("I got stung by a wasp and it's swollen");
    assert_eq!(
        sting.present,
        [symptom("insect_bite_sting")].into(),
        "{sting:?}"
    );
    let throat = evidence("My voice is hoarse. Throat isn't sore.");
    assert!(!throat.absent.contains(&headache), "{throat:?}");
    // A denied word is of the part its subject names.
    let eyes = evidence("My skin and eyes aren't yellow.");
    assert!(eyes.absent.contains(&symptom("jaundice")), "{eyes:?}");
}

#[test]
fn a_clause_of_one_word_matches_only_a_symptom_phrased_with_that_word() {
    // "Woke up" alone resembled being hard to wake, unresponsive and sleeping badly; "big"
    // resembled bruising.
    for text in [
        "Woke up with a sore throat and a blocked nose.",
        "Woke up and the room was spinning.",
    ] {
        let found = evidence(text);
        for id in ["drowsiness", "unresponsive", "trouble_sleeping"] {
            assert!(!found.present.contains(&symptom(id)), "{text}: {found:?}");
        }
    }
    let spinning = evidence("Woke up and the room was spinning.");
    assert!(
        spinning.present.contains(&symptom("vertigo")),
        "{spinning:?}"
    );
    let tonsils = evidence("My tonsils are big and white.");
    assert!(
        tonsils.present.contains(&symptom("tonsil_pus")),
        "{tonsils:?}"
    );
    assert!(
        !tonsils.present.contains(&symptom("bruising")),
        "{tonsils:?}"
    );
    // A word that a phrasing of the symptom has still matches it.
    for text in ["Got a temperature.", "My son is hot and grizzly."] {
        let found = evidence(text);
        assert!(
            found.present.contains(&symptom("fever")),
            "{text}: {found:?}"
        );
    }
}

#[test]
fn nothing_denies_what_follows_it() {
    let found = evidence("Nothing near my eye, just a rash on my forehead.");
    assert!(found.present.contains(&symptom("rash")), "{found:?}");
    for id in ["eye_pain", "foreign_body_eye"] {
        assert!(!found.present.contains(&symptom(id)), "{found:?}");
    }
    let found = evidence("My eye is sore but nothing in it.");
    assert!(found.present.contains(&symptom("eye_pain")), "{found:?}");
    assert!(
        !found.present.contains(&symptom("loss_of_interest")),
        "{found:?}"
    );
}

#[test]
fn a_rash_that_does_not_fade_under_a_glass_calls_an_ambulance_on_its_own() {
    let mut state = State::default();
    let reply = say(
        &mut state,
        "I've got a rash of tiny red spots that don't go away when I press a glass on them.",
        RecentVitals::default(),
    );
    assert_eq!(
        reply["triage"]["emergency_pattern"], "non_blanching_rash",
        "{reply}"
    );
    assert_eq!(reply["triage"]["level"], "emergency_ambulance", "{reply}");
}

#[test]
fn a_red_eye_with_blurred_sight_goes_to_eye_casualty_and_any_red_eye_is_asked_about_sight() {
    let mut state = State::default();
    let reply = say(
        &mut state,
        "My left eye is red and aching and my vision in it is blurry.",
        RecentVitals::default(),
    );
    assert_eq!(
        reply["triage"]["emergency_pattern"], "red_eye_with_sight_changes",
        "{reply}"
    );
    assert_eq!(reply["triage"]["level"], "emergency", "{reply}");
    let mut state = asks_first("Both my eyes are red and itchy.", "blurred_vision");
    let reply = answer(&mut state, Answer::Yes);
    assert_eq!(
        reply.triage.emergency_pattern.as_deref(),
        Some("red_eye_with_sight_changes"),
        "{reply:?}"
    );
}

#[test]
fn a_symptom_said_clearly_in_one_clause_is_not_loose_for_resembling_another() {
    let struggling = symptom("shortness_of_breath_at_rest");
    let resembled = evidence("My lungs feel wrecked.");
    assert!(resembled.loose.contains(&struggling), "{resembled:?}");
    for text in [
        "My lungs feel wrecked. I'm struggling to breathe.",
        "I'm struggling to breathe. My lungs feel wrecked.",
    ] {
        let found = evidence(text);
        assert!(found.present.contains(&struggling), "{text}: {found:?}");
        assert!(!found.loose.contains(&struggling), "{text}: {found:?}");
    }
}

#[test]
fn plenty_of_wet_nappies_rules_out_fewer_and_not_many_does_not() {
    let little_urine = symptom("reduced_urine");
    let plenty = evidence("Plenty of wet nappies and she's a bit snuffly.");
    assert!(plenty.absent.contains(&little_urine), "{plenty:?}");
    assert!(!plenty.present.contains(&little_urine), "{plenty:?}");
    for text in ["Not many wet nappies today.", "Fewer wet nappies today."] {
        let found = evidence(text);
        assert!(found.present.contains(&little_urine), "{text}: {found:?}");
    }
}

#[test]
fn a_statement_of_ability_denies_the_inability_it_resembles() {
    let weight = symptom("cannot_bear_weight");
    let able = evidence("Went over on my ankle, it's swollen but I can walk on it with a limp.");
    assert!(able.absent.contains(&weight), "{able:?}");
    assert!(!able.present.contains(&weight), "{able:?}");
    let barely = evidence("Went over on my ankle, it's swollen and I can barely walk on it.");
    assert!(barely.present.contains(&weight), "{barely:?}");
    // The ability reaches over "and", as a negation does.
    let swallowing = symptom("difficulty_swallowing");
    let both = evidence("I can breathe and swallow at the moment.");
    assert!(both.absent.contains(&swallowing), "{both:?}");
    assert!(!both.present.contains(&swallowing), "{both:?}");
}

#[test]
fn a_function_said_to_be_normal_denies_its_failing() {
    let breathless = symptom("shortness_of_breath");
    let at_rest = symptom("shortness_of_breath_at_rest");
    for text in [
        "My ribs are sore when I push on them. Breathing is fine.",
        "Calf is swollen and warm. My breathing's totally normal.",
        "Went grey and clammy at my desk, I'm breathing ok.",
    ] {
        let found = evidence(text);
        assert!(found.absent.contains(&breathless), "{text}: {found:?}");
        assert!(found.absent.contains(&at_rest), "{text}: {found:?}");
    }
    let stroke = evidence("Her arm is weak but her speech seems ok and her face looks normal.");
    for id in ["slurred_speech", "face_drooping"] {
        assert!(stroke.absent.contains(&symptom(id)), "{id}: {stroke:?}");
    }
    let sight = evidence("Swollen face and fingers at 32 weeks, my eyesight seems ok.");
    assert!(
        sight.absent.contains(&symptom("blurred_vision")),
        "{sight:?}"
    );
    // Normal only sometimes, or not normal, denies nothing.
    for text in [
        "Breathing is fine at rest but I'm puffed out on the stairs.",
        "He's not breathing normally.",
        "I can't see ok out of my left eye.",
        // "Regular" is normal only of a beat or a cycle.
        "I see regular flashes of light in one eye.",
    ] {
        let found = evidence(text);
        for id in [
            "shortness_of_breath",
            "shortness_of_breath_at_rest",
            "blurred_vision",
        ] {
            assert!(
                !found.absent.contains(&symptom(id)),
                "{text}: {id}: {found:?}"
            );
        }
    }
}

#[test]
fn a_pain_denied_at_a_part_is_that_parts_pain_denied() {
    for (text, pain) in [
        (
            "Woke up with the room spinning. My head doesn't hurt.",
            "headache",
        ),
        ("My left eye is red and gunky. It doesn't hurt.", "eye_pain"),
        (
            "Voice has been hoarse for weeks. Throat isn't sore.",
            "sore_throat",
        ),
        (
            "One of my balls has swelled up but it's not really painful.",
            "testicular_pain",
        ),
        (
            "Pink wee this morning, doesn't hurt to go though.",
            "pain_on_urination",
        ),
    ] {
        let found = evidence(text);
        assert!(found.absent.contains(&symptom(pain)), "{text}: {found:?}");
        assert!(!found.present.contains(&symptom(pain)), "{text}: {found:?}");
    }
    // An inability "without it hurting" says the pain; "it came back" names no back.
    let rigid = evidence("Belly is rock hard and I can't move without it hurting.");
    assert!(
        !rigid.absent.contains(&symptom("abdominal_pain")),
        "{rigid:?}"
    );
    let returned = evidence("The rash came back. It isn't sore.");
    assert!(
        !returned.absent.contains(&symptom("back_pain")),
        "{returned:?}"
    );
    // The part nearest the denial is the one denied, though it has no pain of its own here.
    let knee = evidence("My head is pounding but my knee doesn't hurt.");
    assert!(!knee.absent.contains(&symptom("headache")), "{knee:?}");
}

#[test]
fn no_blood_no_knock_and_not_sick_are_read_as_denials_of_what_they_are_said_of() {
    let denied = |text: &str, id: &str| {
        let found = evidence(text);
        assert!(
            found.absent.contains(&symptom(id)),
            "{text}: {id}: {found:?}"
        );
    };
    denied(
        "Stings when I pee and I'm going all the time. No blood.",
        "blood_in_urine",
    );
    denied(
        "Running to the toilet every hour, all water. No blood in it.",
        "blood_in_stool",
    );
    denied("No blood in my wee or poo.", "blood_in_urine");
    denied("No blood in my wee or poo.", "blood_in_stool");
    denied(
        "She went stiff and jerked for a minute. She didn't bang her head.",
        "head_injury",
    );
    denied(
        "Awful pain at the back of my head. I didn't bang it on anything.",
        "head_injury",
    );
    denied("He hasn't been sick and seems his normal self.", "vomiting");
    // Said of nothing, "no blood" is nobody's; "I don't feel sick" is no vomiting denied.
    let unsaid = evidence("I've had a bad cough. No blood.");
    for id in ["blood_in_urine", "blood_in_stool"] {
        assert!(!unsaid.absent.contains(&symptom(id)), "{id}: {unsaid:?}");
    }
    let queasy = evidence("I don't feel sick.");
    assert!(!queasy.absent.contains(&symptom("vomiting")), "{queasy:?}");
}

#[test]
fn no_temp_denies_a_fever() {
    let fever = symptom("fever");
    for text in [
        "Aching all over since yesterday. No temp though.",
        "Sore throat, no temp.",
    ] {
        let found = evidence(text);
        assert!(found.absent.contains(&fever), "{text}: {found:?}");
    }
    let found = evidence("She's had a temp since last night.");
    assert!(found.present.contains(&fever), "{found:?}");
}

#[test]
fn each_item_of_a_list_of_denials_is_denied() {
    let injury = symptom("recent_injury");
    for text in [
        "No rash, no injury.",
        "No cough and no injury.",
        "I have ankylosing spondylitis. No discharge, no injury.",
    ] {
        let found = evidence(text);
        assert!(found.absent.contains(&injury), "{text}: {found:?}");
    }
}

#[test]
fn regular_periods_and_a_regular_heartbeat_deny_their_irregular_opposites() {
    let missed_period = symptom("missed_period");
    let palpitations = symptom("palpitations");
    for text in [
        "My periods are regular.",
        "Put on two stone this year. Periods are regular and not heavy.",
    ] {
        let found = evidence(text);
        assert!(found.absent.contains(&missed_period), "{text}: {found:?}");
        assert!(!found.present.contains(&missed_period), "{text}: {found:?}");
    }
    let found = evidence("My heartbeat is regular.");
    assert!(found.absent.contains(&palpitations), "{found:?}");
    // Lateness said beside it, or periods said irregular, keep the missed period.
    for text in [
        "My periods are regular but I'm 2 weeks late.",
        "My periods are irregular.",
    ] {
        let found = evidence(text);
        assert!(found.present.contains(&missed_period), "{text}: {found:?}");
    }
}

#[test]
fn feeding_well_is_not_poor_feeding_and_not_feeding_well_is() {
    let poor_feeding = symptom("poor_feeding");
    let well = evidence("She's feeding well and has a runny nose.");
    assert!(!well.present.contains(&poor_feeding), "{well:?}");
    let not_well = evidence("He isn't feeding well and has a runny nose.");
    assert!(not_well.present.contains(&poor_feeding), "{not_well:?}");
    assert!(!not_well.absent.contains(&poor_feeding), "{not_well:?}");
}

#[test]
fn a_symptom_phrased_as_a_negation_is_present_not_denied() {
    for (text, id) in [
        ("He's not responding.", "unresponsive"),
        ("I'm not hungry.", "loss_of_appetite"),
        ("I have no energy.", "fatigue"),
        ("I haven't pooed for days.", "constipation"),
        ("She is not feeding at all.", "poor_feeding"),
        ("I don't want to be alive.", "suicidal_thoughts"),
    ] {
        let found = evidence(text);
        let s = symptom(id);
        assert!(found.present.contains(&s), "{text}: {found:?}");
        assert!(!found.loose.contains(&s), "{text}: {found:?}");
        assert!(!found.absent.contains(&s), "{text}: {found:?}");
    }
    // Words after the negation may qualify it: asked, not taken as said.
    let unresponsive = symptom("unresponsive");
    let qualified = evidence("His temperature is not responding to calpol.");
    assert!(qualified.loose.contains(&unresponsive), "{qualified:?}");
    // A negation cue in front of an ordinary phrasing still denies it.
    let breath = symptom("shortness_of_breath");
    let denied = evidence("I'm not short of breath.");
    assert!(denied.absent.contains(&breath), "{denied:?}");
}

#[test]
fn a_negation_that_states_a_lack_reports_it_and_one_that_denies_a_problem_does_not() {
    for (text, id) in [
        ("He hasn't had a wet nappy all day.", "reduced_urine"),
        ("I haven't peed since this morning.", "reduced_urine"),
        (
            "I don't know if I can keep myself safe tonight.",
            "suicide_plan",
        ),
    ] {
        let found = evidence(text);
        let s = symptom(id);
        assert!(found.present.contains(&s), "{text}: {found:?}");
        // The model's reading of a negation is asked, not taken as said.
        assert!(found.loose.contains(&s), "{text}: {found:?}");
    }
    for (text, id) in [
        (
            "I haven't had any trouble passing wind.",
            "unable_to_pass_wind",
        ),
        ("No trouble swallowing.", "difficulty_swallowing"),
    ] {
        let found = evidence(text);
        let s = symptom(id);
        assert!(found.absent.contains(&s), "{text}: {found:?}");
        assert!(!found.present.contains(&s), "{text}: {found:?}");
    }
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
fn colic_painkillers_do_not_ease_goes_to_hospital_and_severity_alone_does_not_raise() {
    let level = |text: &str| {
        let reply = say(&mut State::default(), text, RecentVitals::default());
        (
            reply["triage"]["level"].as_str().unwrap().to_owned(),
            reply["triage"]["reasons"].to_string(),
        )
    };
    let eased = level(
        "terrible pain in my left side that comes in waves down into my groin, ibuprofen is helping",
    );
    assert_eq!(eased.0, "consultation_24", "{eased:?}");
    let unrelieved = level(
        "terrible pain in my left side that comes in waves down into my groin, painkillers aren't doing anything",
    );
    assert_eq!(unrelieved.0, "emergency", "{unrelieved:?}");
    assert!(unrelieved.1.contains("painkillers"), "{unrelieved:?}");
    // Sore throats are often called the worst ever: that alone is no reason to see anyone.
    let throat = level("the worst sore throat I've had, it's really painful to swallow");
    assert_eq!(throat.0, "self_care", "{throat:?}");
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
fn an_emergency_only_a_less_likely_condition_needs_still_asks_what_tells_them_apart() {
    let mut state = State::default();
    let reply = say(
        &mut state,
        "I feel anxious all the time, can't switch off and my chest feels tight.",
        RecentVitals::default(),
    );
    assert_eq!(reply["triage"]["level"], "emergency_ambulance", "{reply}");
    let reason = reply["triage"]["reasons"][0].as_str().unwrap();
    assert!(reason.starts_with("it could be"), "{reply}");
    assert!(reply["question"]["symptom"].is_string(), "{reply}");
    assert!(reply["triage"].get("tentative").is_none(), "{reply}");
}

#[test]
fn confusion_raising_a_less_likely_emergency_still_asks_what_tells_them_apart() {
    let older_woman = aged(80, Sex::Female);
    let mut state = State::default();
    let told =
        Input::Text("Mum's memory has been getting worse for a year and she gets muddled.".into());
    let (reply, _) = assistant()
        .turn(&mut state, &told, older_woman, RecentVitals::default())
        .unwrap();
    // Confusion with "it could be" a head injury: the ambulance stands until asked.
    assert_eq!(reply.triage.level, Triage::EmergencyAmbulance, "{reply:?}");
    let question = reply.question.as_ref().map(|q| q.symptom.as_str());
    assert_eq!(question, Some("head_injury"), "{reply:?}");
    let (no_blow, _) = assistant()
        .turn(
            &mut state,
            &Input::Answer(Answer::No),
            older_woman,
            RecentVitals::default(),
        )
        .unwrap();
    assert!(no_blow.triage.level < Triage::Emergency, "{no_blow:?}");
}

#[test]
fn a_swelling_tongue_goes_to_a_and_e_and_with_hives_calls_an_ambulance() {
    let mut state = State::default();
    let reply = say(
        &mut state,
        "My tongue has swelled up in the last hour. I take ramipril.",
        RecentVitals::default(),
    );
    assert_eq!(reply["triage"]["level"], "emergency", "{reply}");
    assert_eq!(
        reply["triage"]["emergency_pattern"], "lip_tongue_swelling",
        "{reply}"
    );
    let mut state = State::default();
    let reply = say(
        &mut state,
        "I ate a prawn curry and now my lips are swelling up and I'm covered in hives.",
        RecentVitals::default(),
    );
    assert_eq!(reply["triage"]["level"], "emergency_ambulance", "{reply}");
}

#[test]
fn a_swollen_gum_is_the_gum_not_a_swelling_lip_or_tongue() {
    let mut state = State::default();
    let reply = say(
        &mut state,
        "My gum has swollen up by a tooth that throbs.",
        RecentVitals::default(),
    );
    assert!(reply["triage"]["emergency_pattern"].is_null(), "{reply}");
    assert_eq!(reply["triage"]["level"], "consultation_24", "{reply}");
    assert!(labels(&reply, "understood_present").contains(&"swollen gum".to_owned()));
}

#[test]
fn suicidal_thoughts_get_crisis_advice_and_a_plan_calls_an_ambulance() {
    let thoughts = "I keep thinking about killing myself.";
    let mut state = State::default();
    let reply = say(&mut state, thoughts, RecentVitals::default());
    assert_eq!(reply["triage"]["crisis"], true, "{reply}");
    assert_eq!(reply["triage"]["level"], "emergency", "{reply}");
    // As a crisis line would, it asks next whether there is a plan.
    assert_eq!(reply["question"]["symptom"], "suicide_plan", "{reply}");
    let no_plan = answer(&mut state, Answer::No);
    assert_eq!(no_plan.triage.level, Triage::Emergency, "{no_plan:?}");
    assert!(no_plan.triage.crisis);

    let mut state = State::default();
    say(&mut state, thoughts, RecentVitals::default());
    let plan = answer(&mut state, Answer::Yes);
    assert_eq!(plan.triage.level, Triage::EmergencyAmbulance, "{plan:?}");
    assert!(plan.triage.crisis);
    assert!(
        matches!(
            plan.triage.emergency_pattern.as_deref(),
            Some("suicide_plan" | "suicide_plan_stated")
        ),
        "{plan:?}"
    );
}

#[test]
fn not_knowing_whether_one_can_keep_safe_keeps_the_crisis_whatever_else_is_denied() {
    let mut state = State::default();
    say(
        &mut state,
        "I've been having thoughts of ending my life.",
        RecentVitals::default(),
    );
    let reply = say(
        &mut state,
        "I haven't taken anything, but I don't know if I can keep myself safe tonight.",
        RecentVitals::default(),
    );
    assert_eq!(reply["triage"]["crisis"], true, "{reply}");
    assert_eq!(reply["triage"]["level"], "emergency_ambulance", "{reply}");
    // Every question answered no but the plan: thoughts and crisis lines stay.
    let mut question = reply["question"]["symptom"].as_str().map(str::to_owned);
    let mut last = None;
    while let Some(symptom) = question {
        let yes = symptom == "suicide_plan" || symptom == "suicidal_thoughts";
        let reply = answer(&mut state, if yes { Answer::Yes } else { Answer::No });
        question = reply.question.as_ref().map(|q| q.symptom.clone());
        last = Some(reply);
    }
    let last = last.expect("a question was asked");
    assert!(last.triage.crisis, "{last:?}");
    assert!(last.triage.level >= Triage::Emergency, "{last:?}");
}

#[test]
fn a_wish_to_be_dead_is_a_suicidal_thought_and_gets_crisis_advice() {
    // The C-SSRS screener's first question, PHQ-9's ninth item and the NHS's own words
    // for suicidal feelings, as a patient would put them.
    for text in [
        "I wish I could go to sleep and not wake up.",
        "Some days I wish I was dead.",
        "I don't want to be here anymore.",
        "Honestly, what's the point in living.",
        "I think I would be better off dead.",
    ] {
        let mut state = State::default();
        let reply = say(&mut state, text, RecentVitals::default());
        assert_eq!(reply["triage"]["crisis"], true, "{text}: {reply}");
        assert_eq!(reply["triage"]["level"], "emergency", "{text}: {reply}");
    }
}

#[test]
fn pauses_in_a_babys_breathing_call_an_ambulance_but_an_adults_snoring_does_not() {
    let baby = aged(0, Sex::Male);
    let (reply, _) = assistant()
        .turn(
            &mut State::default(),
            &Input::Text(
                "My 6 week old has a snuffly cold and a cough, and there are long pauses in \
                 his breathing."
                    .into(),
            ),
            baby,
            RecentVitals::default(),
        )
        .unwrap();
    assert_eq!(reply.triage.level, Triage::EmergencyAmbulance, "{reply:?}");
    assert_eq!(
        reply.triage.emergency_pattern.as_deref(),
        Some("severe_breathing_difficulty")
    );

    let snoring = say(
        &mut State::default(),
        "My wife says I snore loudly and stop breathing in my sleep, and I'm tired all day.",
        RecentVitals::default(),
    );
    let level: Triage = serde_json::from_value(snoring["triage"]["level"].clone()).unwrap();
    assert!(level < Triage::Emergency, "{snoring}");
}

#[test]
fn a_fever_in_a_baby_under_3_months_goes_to_hospital_in_an_older_baby_it_need_not() {
    let baby = aged(0, Sex::Female);
    let level_of = |text: &str| {
        let reply = reply_to(text, baby);
        (reply.triage.emergency_pattern, reply.triage.level)
    };
    let (pattern, level) =
        level_of("My 6 week old has a temperature of 38.2 and is a bit grizzly, feeding ok.");
    assert_eq!(pattern.as_deref(), Some("fever_under_3_months"));
    assert_eq!(level, Triage::Emergency);
    // On a parent's own account, whose fever it is is asked, urgent until answered: a
    // breastfeeding mother's fever is no baby's.
    let mother = aged(31, Sex::Female);
    let mut state = State::default();
    let (asked, _) = assistant()
        .turn(
            &mut state,
            &Input::Text(
                "My 5 week old is feeding well but I feel shivery, 38.5 on the thermometer.".into(),
            ),
            mother,
            RecentVitals::default(),
        )
        .unwrap();
    assert_eq!(asked.triage.level, Triage::Emergency, "{asked:?}");
    assert_eq!(
        asked.question.as_ref().map(|q| q.symptom.as_str()),
        Some("under_3_months")
    );
    let (mine, _) = assistant()
        .turn(
            &mut state,
            &Input::Answer(Answer::No),
            mother,
            RecentVitals::default(),
        )
        .unwrap();
    assert_eq!(mine.triage.emergency_pattern, None, "{mine:?}");
    let (pattern, level) =
        level_of("My 6 month old has a temperature of 38.2 and is a bit grizzly, feeding ok.");
    assert_eq!(pattern, None);
    assert!(level < Triage::Emergency, "{level:?}");
    let (pattern, _) = level_of("My 6 week old has a blocked nose but no temperature.");
    assert_eq!(pattern, None);
}

#[test]
fn a_thermometers_figure_says_whether_there_is_a_fever_and_39_at_4_months_needs_a_doctor_today() {
    let baby = aged(0, Sex::Male);
    // NICE NG143: at 3 to 6 months, 39 °C or more is amber; below it, or older, it is not.
    let amber = reply_to(
        "My 4 month old has a temperature of 39.2 and is grizzly.",
        baby,
    );
    assert_eq!(amber.triage.level, Triage::Consultation24, "{amber:?}");
    for calmer in [
        "My 4 month old has a temperature of 38.2 and is grizzly.",
        "My 8 month old has a temperature of 39.2 and is grizzly.",
    ] {
        let reply = reply_to(calmer, baby);
        assert!(
            reply.triage.level < Triage::Consultation24,
            "{calmer}: {reply:?}"
        );
    }
    // On a parent's own account a message only of the baby is the baby's; one where the
    // writer speaks of themselves too is asked whose temperature it is first.
    let parent = aged(29, Sex::Female);
    let babys = reply_to(
        "My 4 month old has a temperature of 39.2 and is grizzly.",
        parent,
    );
    assert_eq!(babys.triage.level, Triage::Consultation24, "{babys:?}");
    let asked = reply_to(
        "I'm breastfeeding my 4 month old and have a temperature of 39.2.",
        parent,
    );
    assert_eq!(
        asked.question.map(|q| q.symptom),
        Some("high_temperature_3_to_6_months".to_owned())
    );
    // A normal figure rules a fever out, which "a temperature" alone would have suggested.
    let normal = reply_to("My temperature is 36.8 and I have a sore throat.", parent);
    assert!(
        normal.understood_absent.iter().any(|s| s == "Fever"),
        "{normal:?}"
    );
    let high = reply_to("My temperature is 38.6 and I have a sore throat.", parent);
    assert!(
        high.understood_present.iter().any(|s| s == "Fever"),
        "{high:?}"
    );
}

#[test]
fn an_older_person_fallen_and_unable_to_get_up_calls_an_ambulance_a_young_one_does_not() {
    let fallen = |age: u32| {
        let profile = aged(age, Sex::Female);
        let text =
            "She fell in the bathroom and can't get up, her hip hurts and the leg looks shorter.";
        assistant()
            .turn(
                &mut State::default(),
                &Input::Text(text.into()),
                profile,
                RecentVitals::default(),
            )
            .unwrap()
            .0
            .triage
    };
    let older = fallen(82);
    assert_eq!(older.level, Triage::EmergencyAmbulance, "{older:?}");
    assert_eq!(
        older.emergency_pattern.as_deref(),
        Some("older_person_fallen_cannot_get_up")
    );
    let younger = fallen(30);
    assert_ne!(
        younger.emergency_pattern.as_deref(),
        Some("older_person_fallen_cannot_get_up"),
        "{younger:?}"
    );
}

/// The emergency pattern a first message fires, with the level it is given, for a man of
/// 70 (old enough for every pattern).
fn pattern_of(text: &str) -> (Option<String>, Triage) {
    let older_man = aged(70, Sex::Male);
    let reply = reply_to(text, older_man);
    (reply.triage.emergency_pattern, reply.triage.level)
}

/// A first message that fires `pattern` at `level`.
fn fires(text: &str, pattern: &str, level: Triage) {
    let (fired, given) = pattern_of(text);
    assert_eq!(fired.as_deref(), Some(pattern), "{text}");
    assert_eq!(given, level, "{text}");
}

/// A first message of the adult that fires no pattern and asks `sign` first; the
/// conversation, to answer it.
fn asks_first(text: &str, sign: &str) -> State {
    let mut state = State::default();
    let reply = say(&mut state, text, RecentVitals::default());
    assert!(reply["triage"]["emergency_pattern"].is_null(), "{reply}");
    assert_eq!(reply["question"]["symptom"], sign, "{reply}");
    state
}

/// A first message that fires no pattern and is no emergency.
fn no_emergency(text: &str) {
    let (fired, given) = pattern_of(text);
    assert_eq!(fired, None, "{text}");
    assert!(given < Triage::Emergency, "{text}: {given:?}");
}

#[test]
fn a_hot_joint_with_a_fever_goes_to_hospital_without_one_a_gout_attack_sees_a_gp() {
    fires(
        "My knee came up red, hot and swollen yesterday and now I have a high temperature and keep shivering.",
        "hot_joint_with_fever",
        Triage::Emergency,
    );
    // Without a fever said (a hot joint's heat is its own), the fever is asked first: it
    // alone would make the joint an emergency. Denied, the attack is the GP's, not the
    // next day's.
    let attack = "My big toe is red, hot and swollen.";
    let mut state = asks_first(attack, "fever");
    let the_joint = [symptom("joint_pain"), symptom("joint_swelling")];
    let reply = answer_all(&mut state, &the_joint);
    assert_eq!(reply.conditions[0].id, "gout", "{reply:?}");
    assert_eq!(reply.triage.emergency_pattern, None, "{reply:?}");
    assert_eq!(reply.triage.level, Triage::Consultation, "{reply:?}");
}

#[test]
fn heat_said_of_a_limb_is_no_fever_heat_said_of_the_patient_is() {
    let fever = symptom("fever");
    for limb in [
        "My elbow is swollen and hot to touch.",
        "My wrist is swollen, hot and painful.",
    ] {
        assert!(!evidence(limb).present.contains(&fever), "{limb}");
    }
    for patient in [
        "My baby is hot to touch.",
        "My knee is hot and swollen and I feel hot and shivery.",
    ] {
        assert!(evidence(patient).present.contains(&fever), "{patient}");
    }
}

#[test]
fn a_cold_had_is_the_illness_not_feeling_the_cold_or_coughing_fits() {
    let misread = [symptom("cold_intolerance"), symptom("coughing_fits")];
    for said in ["I've got a cold.", "I've had a stinking cold for a week."] {
        let read = evidence(said);
        assert!(misread.iter().all(|s| !read.present.contains(s)), "{said}");
    }
    let feeling_it = evidence("I feel the cold all the time, even in summer.");
    assert!(feeling_it.present.contains(&misread[0]));
}

#[test]
fn a_migraine_is_looked_after_at_home_a_young_childs_sees_a_gp() {
    let attack = "Another of my migraines: a throbbing headache on one side with zigzag lights first, and light hurts my eyes.";
    let level_at = |age: u32| {
        let (asked, reply) = denying_the_rest(attack, aged(age, Sex::Female));
        assert!(!asked.is_empty(), "{reply:?}");
        assert_eq!(reply.conditions[0].id, "migraine", "{reply:?}");
        reply.triage.level
    };
    assert_eq!(level_at(30), Triage::SelfCare);
    assert_eq!(level_at(8), Triage::Consultation);
}

#[test]
fn a_head_injury_with_vomiting_goes_to_hospital_a_bump_alone_does_not() {
    let (pattern, level) = pattern_of(
        "I banged my head on a cupboard door an hour ago and I've been throwing up since.",
    );
    assert_eq!(pattern.as_deref(), Some("head_injury_warning_signs"));
    assert!(level >= Triage::Emergency, "{level:?}");
    no_emergency("I banged my head on a cupboard door, just a bump. No vomiting, not knocked out.");
}

#[test]
fn not_passing_urine_at_all_goes_to_hospital_a_weak_stream_does_not() {
    fires(
        "I haven't been able to pee at all since last night and my bladder feels like it will burst.",
        "unable_to_pass_urine",
        Triage::Emergency,
    );
    no_emergency("For months my stream has been weak and I get up at night to pee.");
}

#[test]
fn more_tablets_than_a_days_most_is_an_overdose_a_dose_for_a_headache_is_not() {
    fires(
        "I took 20 paracetamol an hour ago. I feel fine and I'm not in pain.",
        "overdose_or_poisoning",
        Triage::EmergencyAmbulance,
    );
    no_emergency("I took 2 paracetamol for a headache an hour ago.");
}

#[test]
fn an_asthma_attack_the_reliever_does_not_help_calls_an_ambulance_needing_it_often_does_not() {
    fires(
        "I'm having an asthma attack and my blue inhaler isn't helping at all.",
        "asthma_attack_reliever_not_helping",
        Triage::EmergencyAmbulance,
    );
    no_emergency(
        "Needing my reliever inhaler most days now and waking up at night coughing and wheezy.",
    );
}

#[test]
fn a_large_burn_goes_to_hospital_a_small_one_is_asked_about_its_size() {
    fires(
        "I spilt boiling water on my arm, the burn is bigger than my hand and blistering.",
        "serious_burn",
        Triage::Emergency,
    );
    let mut state = State::default();
    let said = say(
        &mut state,
        "I burnt my finger on the oven tray, it's red and stinging.",
        RecentVitals::default(),
    );
    assert!(said["triage"]["emergency_pattern"].is_null(), "{said}");
    // A burnt finger is a burn, not a cut that needs stitches.
    assert_eq!(said["triage"]["level"], "self_care", "{said}");
    let reply = answer_all(&mut state, &[]);
    assert_eq!(reply.triage.emergency_pattern, None, "{reply:?}");
    assert!(state.asked.contains(&symptom("serious_burn")), "{reply:?}");
    fires(
        "I burned my arm badly, it's blistering and bigger than my hand.",
        "serious_burn",
        Triage::Emergency,
    );
}

#[test]
fn blurred_vision_in_pregnancy_goes_to_hospital_morning_sickness_does_not() {
    let pregnant = |text: &str| {
        let (reply, _) = assistant()
            .turn(
                &mut State::default(),
                &Input::Text(text.into()),
                aged(34, Sex::Female),
                RecentVitals::default(),
            )
            .unwrap();
        (reply.triage.emergency_pattern, reply.triage.level)
    };
    let (pattern, level) =
        pregnant("I'm 34 weeks pregnant with a bad headache and my vision has gone blurry.");
    assert_eq!(
        pattern.as_deref(),
        Some("pregnancy_with_signs_of_pre_eclampsia")
    );
    assert_eq!(level, Triage::Emergency);
    let (pattern, level) = pregnant("I'm 12 weeks pregnant and feeling sick every morning.");
    assert_eq!(pattern, None);
    assert!(level < Triage::Emergency, "{level:?}");
}

#[test]
fn chest_pain_that_feels_tight_or_heavy_calls_an_ambulance() {
    fires(
        "I've got pain in my chest and my chest feels tight, for half an hour.",
        "acute_coronary_syndrome",
        Triage::EmergencyAmbulance,
    );
}

#[test]
fn a_heavy_or_crushing_chest_is_chest_pain_and_calls_an_ambulance_a_sore_face_does_not() {
    for told in [
        "Crushing chest pain for the last 20 minutes.",
        "Pressure in the middle of my chest that won't go away.",
    ] {
        fires(told, "acute_coronary_syndrome", Triage::EmergencyAmbulance);
        // A heavy chest is chest pain: not asked again.
        let found = evidence(told);
        assert!(found.present.contains(&symptom("chest_pain")), "{told}");
    }
    // "Pressure" about the cheeks is not the chest's.
    no_emergency("Pressure and pain round my cheeks and behind my eyes, worse when I bend down.");
}

#[test]
fn chest_pain_on_exertion_that_goes_with_rest_is_angina_for_a_gp_today_not_an_ambulance() {
    for told in [
        "I get a heavy feeling in my chest when I walk uphill that goes away when I rest.",
        "I get chest pain when I walk up stairs, it goes after a few minutes rest.",
        // Pain and a tight chest alone would be a heart attack's signs.
        "I get chest pain and my chest feels tight when I walk uphill, it goes when I stop.",
    ] {
        let (pattern, level) = pattern_of(told);
        assert_eq!(pattern, None, "{told}");
        assert_eq!(level, Triage::Consultation24, "{told}");
        // Sweating, with chest pain a heart attack's sign whatever brought it on, is
        // asked; a yes is an emergency, and an ambulance once the pain is known.
        let mut state = State::default();
        let mut asked = say(&mut state, told, RecentVitals::default())["question"]["symptom"]
            .as_str()
            .map(str::to_owned);
        while let Some(sign) = asked.as_deref().filter(|&sign| sign != "sweating") {
            assert_ne!(sign, "chest_pain_eases_with_rest", "read, never asked");
            asked = answer(&mut state, Answer::No).question.map(|q| q.symptom);
        }
        assert!(asked.is_some(), "{told}: sweating was never asked");
        let mut sweating = answer(&mut state, Answer::Yes);
        assert!(sweating.triage.level >= Triage::Emergency, "{sweating:?}");
        if sweating
            .question
            .as_ref()
            .is_some_and(|q| q.symptom == "chest_pain")
        {
            sweating = answer(&mut state, Answer::Yes);
        }
        assert_eq!(
            sweating.triage.emergency_pattern.as_deref(),
            Some("heart_attack_warning_signs"),
            "{sweating:?}"
        );
    }
    // Pain that does not go with rest, or with sweating and sickness, is a heart attack's.
    for told in [
        "Crushing chest pain for 20 minutes, I was walking the dog, it doesn't go away when I rest.",
        "Chest pain while running and I feel sweaty and sick.",
    ] {
        fires(told, "acute_coronary_syndrome", Triage::EmergencyAmbulance);
    }
    // Without another sign of a heart attack, pain that rest does not ease calls an
    // ambulance too (had been within 24 h as told).
    fires(
        "I've had chest pain for an hour and it doesn't go away when I rest.",
        "chest_pain_not_eased_by_rest",
        Triage::EmergencyAmbulance,
    );
}

/// Every question a conversation of `profile` starting with `text` asks, each answered no.
fn all_questions(text: &str, profile: Profile) -> Vec<String> {
    denying_the_rest(text, profile).0
}

/// The questions a conversation of `profile` starting with `text` asks, each answered no,
/// and its last reply.
fn denying_the_rest(text: &str, profile: Profile) -> (Vec<String>, Reply) {
    let mut state = State::default();
    let input = Input::Text(text.into());
    let none = RecentVitals::default();
    let (mut reply, _) = assistant().turn(&mut state, &input, profile, none).unwrap();
    let mut asked = Vec::new();
    while let Some(question) = reply.question.take() {
        asked.push(question.symptom);
        let no = Input::Answer(Answer::No);
        reply = assistant().turn(&mut state, &no, profile, none).unwrap().0;
    }
    (asked, reply)
}

#[test]
fn a_sign_only_the_other_sex_has_is_not_asked_unless_one_was_spoken_of() {
    let kb = &assistant().kb;
    let woman = aged(30, Sex::Female);
    let man = aged(30, Sex::Male);
    for (told, profile, other) in [
        (
            "I've got diarrhoea and stomach cramps since yesterday.",
            woman,
            Sex::Male,
        ),
        (
            "I've got pain low down on the right side of my tummy.",
            man,
            Sex::Female,
        ),
    ] {
        let asked = all_questions(told, profile);
        assert!(!asked.is_empty(), "{told}");
        for id in &asked {
            let sign = &kb.symptoms[kb.symptom(id).unwrap()];
            assert_ne!(sign.sex, Some(other), "{told}: asked {id}");
        }
    }
    // The testicle pattern's question is asked of a man with the same words…
    let asked = all_questions(
        "I've got diarrhoea and stomach cramps since yesterday.",
        man,
    );
    assert!(asked.iter().any(|id| id == "testicular_pain"), "{asked:?}");
    // …and of a mother speaking of her son's testicle.
    let asked = all_questions("My son has had testicle pain since this morning.", woman);
    assert_eq!(
        asked.first().map(String::as_str),
        Some("sudden_testicle_pain")
    );
}

#[test]
fn a_low_sugar_is_read_from_the_meter_and_one_that_will_not_come_up_calls_an_ambulance() {
    let shaky = reply_to("I'm diabetic, shaky and sweaty, my sugar is 2.8.", ADULT);
    assert_eq!(
        shaky.conditions.first().map(|c| c.id.as_str()),
        Some("hypoglycaemia")
    );
    assert!(
        shaky
            .understood_present
            .iter()
            .any(|s| s.starts_with("Low blood sugar")),
        "{shaky:?}"
    );
    assert!(shaky.triage.level < Triage::Emergency, "{shaky:?}");
    fires(
        "I'm diabetic and my sugar is low, I've had glucose tablets twice and it's still not coming up.",
        "hypo_not_improving",
        Triage::EmergencyAmbulance,
    );
    // A high sugar is no hypo, and a hypo treated and better is no emergency.
    for calm in [
        "My blood sugar is high, 18 this morning.",
        "I had a hypo, had some glucose tablets and I'm fine now.",
    ] {
        no_emergency(calm);
        let found = evidence(calm);
        assert!(
            !found.present.contains(&symptom("hypo_not_improving")),
            "{calm}"
        );
    }
    let high = evidence("My blood sugar is high, 18 this morning.");
    assert!(!high.present.contains(&symptom("low_blood_sugar")));
}

#[test]
fn a_parent_writing_of_their_child_is_ranked_for_the_childs_age() {
    // From a 35-year-old's account: croup is a young child's, unknown at 35.
    let croup = reply_to(
        "My 2 year old has a barking cough and a hoarse voice at night.",
        ADULT,
    );
    assert_eq!(
        croup.conditions.first().map(|c| c.id.as_str()),
        Some("croup"),
        "{croup:?}"
    );
    // A baby's age leaves the account's: a mother may speak of her own breast.
    let feeding = evidence("My 6 week old is feeding all the time and my breast is red and sore.");
    assert_eq!(feeding.subject.age, None);
}

#[test]
fn a_fever_lasting_5_days_needs_a_doctor_within_24_hours() {
    let long = reply_to("I have had a fever of 39 for 5 days.", ADULT);
    assert_eq!(long.triage.level, Triage::Consultation24, "{long:?}");
    let short = reply_to("I have had a fever of 39 for 2 days.", ADULT);
    assert!(short.triage.level < Triage::Consultation24, "{short:?}");
}

#[test]
fn a_high_sugar_or_ketones_with_signs_of_dka_go_to_a_and_e() {
    fires(
        "I'm diabetic and my sugar is 25 and I've been sick twice.",
        "high_sugar_with_dka_signs",
        Triage::Emergency,
    );
    fires(
        "I'm diabetic, ketones 2+ on the urine stick and I have tummy pain.",
        "ketones_with_dka_signs",
        Triage::Emergency,
    );
    // A ketone meter's 3.2 is no blood sugar of 3.2: very high ketones, not a hypo.
    let ketones = reply_to("My blood sugar is high, ketones are 3.2.", ADULT);
    assert!(ketones.triage.level >= Triage::Emergency, "{ketones:?}");
    let found = evidence("My blood sugar is high, ketones are 3.2.");
    assert!(found.present.contains(&symptom("very_high_ketones")));
    assert!(!found.present.contains(&symptom("low_blood_sugar")));
    // Ketones a meter reads normal are denied, and a high sugar alone is no emergency.
    let normal = "My sugar is 14 this morning and my ketones are 0.4.";
    no_emergency(normal);
    let found = evidence(normal);
    assert!(found.present.contains(&symptom("high_blood_sugar")));
    assert!(found.absent.contains(&symptom("raised_ketones")));
}

#[test]
fn a_phrasing_within_a_longer_one_is_part_of_it_so_hay_fever_is_no_fever() {
    let found = evidence("I have hay fever.");
    assert!(found.present.contains(&symptom("hay_fever_season")));
    assert!(!found.present.contains(&symptom("fever")), "{found:?}");
}

#[test]
fn unable_to_swallow_saliva_goes_to_a_and_e_and_a_teething_babys_drool_does_not() {
    let throat = reply_to(
        "My throat is so swollen I can hardly swallow my own spit.",
        ADULT,
    );
    assert!(throat.triage.level >= Triage::Emergency, "{throat:?}");
    no_emergency("My baby is teething and drooling a lot.");
    let teething = reply_to("My baby is teething and drooling a lot.", ADULT);
    assert_eq!(teething.conditions[0].id, "teething", "{teething:?}");
    assert_eq!(teething.triage.level, Triage::SelfCare, "{teething:?}");
}

#[test]
fn believing_people_are_out_to_get_you_needs_a_doctor_within_24_hours() {
    let told = reply_to(
        "I feel like everyone is out to get me and I haven't slept for days.",
        ADULT,
    );
    assert_eq!(told.triage.level, Triage::Consultation24, "{told:?}");
}

#[test]
fn back_pain_with_a_numb_bottom_or_lost_bladder_control_goes_to_a_and_e_and_is_asked_of_any() {
    fires(
        "I've had a bad back for 2 days and now I can't feel my bum and can't control my wee.",
        "cauda_equina_signs",
        Triage::Emergency,
    );
    // Any back pain is asked the signs first (NICE NG59's red flags), and is no
    // emergency until one is said.
    asks_first("I hurt my back lifting a box.", "saddle_numbness");
}

#[test]
fn a_little_blood_is_no_bleeding_that_will_not_stop() {
    let told = "I have pain in my bottom when I poo and a bit of blood.";
    no_emergency(told);
    assert!(
        !evidence(told)
            .present
            .contains(&symptom("heavy_bleeding_wound"))
    );
    let pouring = evidence("I cut my hand and there's blood pouring out.");
    assert!(pouring.present.contains(&symptom("heavy_bleeding_wound")));
}

#[test]
fn diarrhoea_with_blood_in_it_is_blood_in_poo_not_vomiting_blood() {
    let told = "I've had diarrhoea with blood in it for 2 days.";
    no_emergency(told);
    let found = evidence(told);
    // Said clearly: the phrasing spans the clauses "with" splits.
    assert!(
        found.present.contains(&symptom("blood_in_stool"))
            && !found.loose.contains(&symptom("blood_in_stool")),
        "{found:?}"
    );
    assert!(
        !found.present.contains(&symptom("vomiting_blood")),
        "{found:?}"
    );
}

#[test]
fn being_on_tablets_for_something_is_no_overdose_saying_one_will_take_them_all_is() {
    for told in [
        "I'm on tablets for my blood pressure.",
        "I smoke 10 a day and I'm on tablets for cholesterol.",
        "I've taken my usual tablets for my migraine.",
        // A dose missed had called an ambulance for an overdose or a plan of suicide.
        "I forgot to take my tablets this morning.",
        "I've run out of my blood pressure tablets.",
    ] {
        no_emergency(told);
    }
    fires(
        "I'm going to take all my tablets tonight.",
        "suicide_plan_stated",
        Triage::EmergencyAmbulance,
    );
}

#[test]
fn a_statement_is_not_the_negation_it_resembles() {
    // "won't wake up" is how the knowledge base says unresponsive.
    let soaked = evidence("I wake up with the sheets soaked in sweat.");
    assert!(
        soaked.present.contains(&symptom("night_sweats"))
            && !soaked.present.contains(&symptom("unresponsive")),
        "{soaked:?}"
    );
    let asleep = evidence("I can't seem to wake him properly.");
    assert!(
        asleep.present.contains(&symptom("unresponsive")),
        "{asleep:?}"
    );
}

#[test]
fn a_part_that_is_only_where_or_whose_symptom_is_denied_reports_nothing() {
    for (told, not) in [
        ("The leg isn't weak.", "calf_swelling_one_leg"),
        ("My chest doesn't feel tight.", "chest_tightness"),
        ("He has a rash on his face and behind his ears.", "ear_pain"),
    ] {
        let found = evidence(told);
        assert!(!found.present.contains(&symptom(not)), "{told}: {found:?}");
    }
}

#[test]
fn what_would_happen_otherwise_is_asked_not_taken_as_said() {
    let at_rest = symptom("shortness_of_breath_at_rest");
    for told in [
        "I have to sleep propped up on 3 pillows or I can't breathe.",
        "I have to sit up, otherwise I can't breathe.",
    ] {
        let found = evidence(told);
        assert!(found.loose.contains(&at_rest), "{told}: {found:?}");
        let mut state = State::default();
        let reply = tell(&mut state, told);
        assert_eq!(
            reply.question.unwrap().symptom,
            "shortness_of_breath_at_rest"
        );
        let after = answer(&mut state, Answer::No);
        assert!(after.triage.level < Triage::EmergencyAmbulance, "{told}");
    }
    assert!(!evidence("I can't breathe.").loose.contains(&at_rest));
}

#[test]
fn a_bone_the_patient_thinks_broken_goes_to_a_and_e_a_swollen_wrist_is_not_one() {
    let reply = reply_to(
        "I think I've broken my wrist, it's swollen and I can't move it.",
        ADULT,
    );
    assert_eq!(reply.conditions[0].id, "broken_arm");
    assert!(
        reply.triage.level >= Triage::Emergency,
        "{:?}",
        reply.triage
    );
    let swollen = evidence("My wrists on both hands are swollen and painful.");
    assert!(
        !swollen.present.contains(&symptom("thinks_bone_broken")),
        "{swollen:?}"
    );
}

#[test]
fn someone_not_breathing_calls_an_ambulance_with_cpr_advice() {
    for told in [
        "My husband collapsed and isn't breathing.",
        "He's unconscious and not breathing.",
    ] {
        fires(told, "not_breathing", Triage::EmergencyAmbulance);
        let reply = reply_to(told, ADULT);
        assert!(reply.triage.advice.contains("CPR"), "{told}");
    }
    let fine = evidence("I'm coughing but my breathing is fine.");
    assert!(
        !fine.present.contains(&symptom("not_breathing")),
        "{fine:?}"
    );
}

#[test]
fn a_clause_with_one_phrasing_word_for_word_is_read_for_the_rest_too() {
    let told = "My throat is closing up after I ate peanuts.";
    let found = evidence(told);
    for id in ["allergen_exposure", "throat_tightness"] {
        assert!(found.present.contains(&symptom(id)), "{id}: {found:?}");
    }
    let (_, level) = pattern_of(told);
    assert_eq!(level, Triage::EmergencyAmbulance);
}

#[test]
fn food_poisoning_is_food_gone_off_not_a_poison_swallowed() {
    let told = "I think I've got food poisoning, I've been sick twice.";
    no_emergency(told);
    let found = evidence(told);
    assert!(
        found.present.contains(&symptom("suspect_food"))
            && !found.present.contains(&symptom("took_overdose")),
        "{found:?}"
    );
}

#[test]
fn a_condition_said_to_have_lasted_longer_than_it_usually_does_is_unlikely() {
    let leading = |text: &str| reply_to(text, ADULT).conditions[0].id.clone();
    assert_eq!(
        leading("I've had a runny nose and sneezing for 3 days."),
        "common_cold"
    );
    assert_eq!(
        leading("I've had a runny nose and sneezing for 3 months."),
        "allergic_rhinitis"
    );
}

#[test]
fn sudden_testicle_pain_goes_to_hospital_and_any_testicle_pain_is_asked_whether_it_was() {
    fires(
        "Sudden severe pain in my left testicle.",
        "testicle_pain_needing_hospital",
        Triage::Emergency,
    );
    let mut state = asks_first(
        "My testicle has been aching for a few weeks.",
        "sudden_testicle_pain",
    );
    let sudden = answer(&mut state, Answer::Yes);
    assert_eq!(sudden.triage.level, Triage::Emergency, "{sudden:?}");
}

#[test]
fn choking_calls_an_ambulance_choking_in_ones_sleep_does_not() {
    fires(
        "My daughter is choking on a grape.",
        "choking",
        Triage::EmergencyAmbulance,
    );
    no_emergency("My partner says I'm choking in my sleep and I snore loudly.");
}

#[test]
fn numb_legs_after_a_fall_call_an_ambulance_and_numb_legs_alone_go_to_hospital() {
    fires(
        "I fell off a ladder and hurt my back, I can't feel my legs.",
        "possible_spinal_injury",
        Triage::EmergencyAmbulance,
    );
    fires("My legs have gone numb.", "numb_legs", Triage::Emergency);
    no_emergency("I fell off a ladder and hurt my back, no numbness or weakness in my legs.");
}

#[test]
fn a_bulging_soft_spot_calls_an_ambulance_even_after_a_denial_of_something_else() {
    fires(
        "My baby isn't feeding and has a bulging soft spot.",
        "bulging_fontanelle",
        Triage::EmergencyAmbulance,
    );
    let found = evidence("Her soft spot looks a bit sunken.");
    assert!(!found.present.contains(&symptom("bulging_fontanelle")));
}

#[test]
fn green_vomit_goes_to_hospital_green_phlegm_does_not() {
    fires(
        "My baby has been sick and the vomit is green.",
        "green_vomit",
        Triage::Emergency,
    );
    no_emergency("I've been coughing up green phlegm for a few days.");
}

#[test]
fn a_baby_moving_less_in_pregnancy_goes_to_the_maternity_unit_and_pregnancy_is_asked() {
    fires(
        "I'm 32 weeks pregnant and the baby hasn't moved as much today.",
        "reduced_baby_movements",
        Triage::Emergency,
    );
    let mut state = asks_first(
        "I haven't felt the baby move since yesterday.",
        "currently_pregnant",
    );
    let pregnant = answer(&mut state, Answer::Yes);
    assert_eq!(pregnant.triage.level, Triage::Emergency, "{pregnant:?}");
    fires(
        "My waters have broken and I'm only 33 weeks.",
        "waters_broken",
        Triage::Emergency,
    );
}

#[test]
fn sudden_loss_of_sight_goes_to_hospital_fainting_does_not_lose_it() {
    let mut state = State::default();
    let young = say(
        &mut state,
        "I suddenly can't see out of my left eye.",
        RecentVitals::default(),
    );
    assert_eq!(
        young["triage"]["emergency_pattern"], "sudden_vision_loss",
        "{young}"
    );
    // At 70 it is first of all a stroke.
    let (_, older) = pattern_of("I suddenly can't see out of my left eye.");
    assert_eq!(older, Triage::EmergencyAmbulance);
    let fainted = evidence("I went hot and sick and then everything went black and I fainted.");
    assert!(!fainted.present.contains(&symptom("sudden_vision_loss")));
}

#[test]
fn a_first_fit_calls_an_ambulance_and_voices_urging_self_harm_get_crisis_advice() {
    fires(
        "She had a fit for the first time at the park.",
        "prolonged_seizure",
        Triage::EmergencyAmbulance,
    );
    let reply = reply_to("I'm hearing voices telling me to hurt myself.", ADULT);
    assert!(reply.triage.crisis, "{reply:?}");
    assert!(reply.triage.level >= Triage::Emergency, "{reply:?}");
}

#[test]
fn signs_that_need_a_doctor_whatever_their_cause_set_the_least_level() {
    for (told, least) in [
        ("I'm coughing up blood.", Triage::Consultation24),
        (
            "I've had chest pain on and off today.",
            Triage::Consultation24,
        ),
        ("I have a lump in my breast.", Triage::Consultation),
        ("My urine is red.", Triage::Consultation),
        (
            "I've been vomiting since yesterday and can't keep any water down.",
            Triage::Consultation24,
        ),
    ] {
        let reply = reply_to(told, ADULT);
        assert!(reply.triage.level >= least, "{told}: {reply:?}");
        assert!(
            reply.triage.reasons[0].contains("needs at least"),
            "{told}: {reply:?}"
        );
    }
    fires(
        "I swallowed a fish bone and it's stuck in my throat.",
        "stuck_in_throat",
        Triage::Emergency,
    );
    // Being sick while keeping water down is no reason to see a doctor today.
    let kept = reply_to(
        "I've been sick twice but I'm keeping sips of water down.",
        ADULT,
    );
    assert!(kept.triage.level < Triage::Consultation24, "{kept:?}");
}

#[test]
fn palpitations_with_a_faint_call_an_ambulance_and_palpitations_are_asked_about_fainting() {
    fires(
        "My heart was pounding and then I passed out.",
        "palpitations_with_fainting",
        Triage::EmergencyAmbulance,
    );
    asks_first("I get palpitations when I drink coffee.", "fainting");
}

#[test]
fn signs_read_word_for_word_do_not_take_the_place_of_what_resembles_them() {
    for (told, not, but) in [
        (
            "I haven't been able to pass water since last night.",
            "waters_broken",
            "unable_to_urinate",
        ),
        (
            "It feels like something is stuck in my throat when I swallow.",
            "stuck_in_throat",
            "difficulty_swallowing",
        ),
    ] {
        let found = evidence(told);
        assert!(!found.present.contains(&symptom(not)), "{told}");
        assert!(found.present.contains(&symptom(but)), "{told}");
    }
}

#[test]
fn sudden_confusion_calls_an_ambulance() {
    fires(
        "My dad suddenly became very confused and doesn't know where he is.",
        "sudden_confusion",
        Triage::EmergencyAmbulance,
    );
    let found = evidence("He has been confused, it didn't come on suddenly.");
    assert!(!found.present.contains(&symptom("sudden_confusion")));
}

#[test]
fn thinking_it_is_a_heart_attack_calls_an_ambulance_having_had_one_does_not() {
    fires(
        "I think I'm having a heart attack.",
        "suspected_heart_attack",
        Triage::EmergencyAmbulance,
    );
    let history = evidence("I had a heart attack 5 years ago and now my ankles are swollen.");
    assert!(!history.present.contains(&symptom("suspected_heart_attack")));
}

#[test]
fn a_tight_throat_after_a_sting_calls_an_ambulance_an_itchy_sting_is_asked_about_it() {
    fires(
        "I was stung by a bee and my throat feels tight.",
        "anaphylaxis_after_sting",
        Triage::EmergencyAmbulance,
    );
    asks_first(
        "Got stung by a wasp on my arm, it's red and itchy.",
        "throat_tightness",
    );
}

#[test]
fn a_head_injury_on_a_blood_thinner_goes_to_hospital() {
    fires(
        "I fell and banged my head this morning, I'm on warfarin.",
        "head_injury_warning_signs",
        Triage::Emergency,
    );
}

#[test]
fn swallowed_magnets_go_to_hospital_however_well_the_child_seems() {
    fires(
        "My son swallowed two magnets, he seems fine.",
        "swallowed_battery_or_magnet",
        Triage::Emergency,
    );
}

#[test]
fn a_rape_told_gets_urgent_care_with_the_sarc_and_is_never_guessed_from_other_words() {
    let reply = reply_to("I was raped last night and I don't know what to do.", ADULT);
    assert_eq!(reply.conditions[0].id, "sexual_assault", "{reply:?}");
    assert_eq!(reply.triage.level, Triage::Consultation24, "{reply:?}");
    assert!(
        reply.self_care.iter().any(|advice| advice.contains("SARC")),
        "{reply:?}"
    );
    let assaulted = symptom("sexually_assaulted");
    assert!(
        evidence("I was sexually assaulted at a party.")
            .present
            .contains(&assaulted)
    );
    assert!(evidence("I wasn't raped.").absent.contains(&assaulted));
    for text in [
        "I scraped my knee on the pavement.",
        "Someone attacked me in the street last night.",
        "My partner hurt me.",
    ] {
        let found = evidence(text);
        assert!(!found.present.contains(&assaulted), "{text}: {found:?}");
    }
}

#[test]
fn a_baby_is_seen_sooner_than_an_adult_with_the_same_stomach_bug_or_thrush() {
    let baby = aged(0, Sex::Male);
    for (text, condition, for_a_baby) in [
        (
            "He has had diarrhoea and vomiting since yesterday.",
            "viral_gastroenteritis",
            Triage::Consultation24,
        ),
        (
            "White patches on the tongue that won't wipe off.",
            "oral_thrush",
            Triage::Consultation,
        ),
    ] {
        let adults = reply_to(text, ADULT);
        let babys = reply_to(text, baby);
        for reply in [&adults, &babys] {
            assert_eq!(reply.conditions[0].id, condition, "{reply:?}");
        }
        assert_eq!(adults.triage.level, Triage::SelfCare, "{adults:?}");
        assert_eq!(babys.triage.level, for_a_baby, "{babys:?}");
        assert_eq!(babys.conditions[0].triage, for_a_baby, "{babys:?}");
        let why = |reply: &Reply| reply.triage.reasons.join(" | ");
        assert!(
            why(&babys).contains("usually needs at this age"),
            "{babys:?}"
        );
        assert!(!why(&adults).contains("at this age"), "{adults:?}");
    }
}

#[test]
fn a_parent_writing_only_of_their_baby_gets_the_babys_level_and_a_mother_of_herself_her_own() {
    for text in [
        "My 8 month old has had diarrhoea and vomiting since yesterday.",
        "My baby has diarrhoea and vomiting, I'm worried.",
    ] {
        let reply = reply_to(text, ADULT);
        assert_eq!(reply.conditions[0].id, "viral_gastroenteritis", "{reply:?}");
        assert_eq!(reply.triage.level, Triage::Consultation24, "{reply:?}");
        // Asked of a baby's vomiting, chest pain would be a heart attack's question.
        let asked = reply.question.as_ref().map(|q| q.symptom.as_str());
        assert_ne!(asked, Some("chest_pain"), "{reply:?}");
    }
    let adults = reply_to("I have had diarrhoea and vomiting since yesterday.", ADULT);
    assert_eq!(adults.triage.level, Triage::SelfCare, "{adults:?}");
    // The baby's age is the subject, not what the clause says: the fever is read.
    let fever = reply_to("My 6 week old has a temperature.", ADULT);
    assert!(
        fever.understood_present.iter().any(|s| s == "Fever"),
        "{fever:?}"
    );
    assert!(fever.triage.level >= Triage::Emergency, "{fever:?}");
    // A mother speaking of her own mood beside her baby's age stays the patient.
    let mother = reply_to(
        "My baby is 2 months old and I cry every day, I feel like a terrible mum.",
        ADULT,
    );
    assert_eq!(
        mother.conditions[0].id, "postnatal_depression",
        "{mother:?}"
    );
}

#[test]
fn a_swallowed_coin_is_no_overdose_and_goes_to_a_and_e_only_with_a_warning_sign_a_pin_always() {
    let child = aged(3, Sex::Male);
    let coin = reply_to("My son swallowed a coin.", child);
    assert_eq!(coin.conditions[0].id, "swallowed_object", "{coin:?}");
    assert_eq!(coin.triage.level, Triage::SelfCare, "{coin:?}");
    assert!(
        !coin
            .understood_present
            .iter()
            .any(|s| s.contains("overdose")),
        "{coin:?}"
    );
    // Its warning signs are asked first.
    let asked = coin.question.as_ref().map(|q| q.symptom.as_str());
    assert_eq!(asked, Some("drooling"), "{coin:?}");
    let drooling = reply_to("He swallowed a 10p coin and now he's drooling.", child);
    assert_eq!(
        drooling.triage.emergency_pattern.as_deref(),
        Some("swallowed_object_warning_signs"),
        "{drooling:?}"
    );
    let pills = reply_to("My son swallowed a coin and some pills.", child);
    assert_eq!(pills.triage.level, Triage::EmergencyAmbulance, "{pills:?}");
    // Something sharp goes to A&E whatever else is said, and is no overdose either.
    let pin = reply_to("I think he swallowed a drawing pin.", child);
    assert_eq!(
        pin.triage.emergency_pattern.as_deref(),
        Some("swallowed_sharp_object"),
        "{pin:?}"
    );
    assert_eq!(pin.triage.level, Triage::Emergency, "{pin:?}");
}

#[test]
fn everyday_complaints_are_read_as_meant() {
    let sick = reply_to("She has been sick twice this morning.", ADULT);
    assert!(
        sick.understood_present.iter().any(|s| s == "Vomiting"),
        "{sick:?}"
    );
    let wee = reply_to("I keep needing a wee and it stings.", ADULT);
    assert_eq!(wee.conditions[0].id, "cystitis", "{wee:?}");
    // An injury of the ankle is not one of the back or the head, which are as common.
    let ankle = reply_to("I twisted my ankle and it is swollen.", ADULT);
    assert_eq!(ankle.conditions[0].id, "ankle_sprain", "{ankle:?}");
    // An abscess of a tooth is the tooth's, not a boil.
    let tooth = reply_to("I've got a tooth abscess and my face is swollen.", ADULT);
    assert_eq!(tooth.conditions[0].id, "dental_abscess", "{tooth:?}");
    // Conditions a patient names in everyday words read their main sign.
    for (said, leading) in [
        ("My child has nits.", "head_lice"),
        ("I've got a chest infection.", "acute_bronchitis"),
    ] {
        let reply = reply_to(said, ADULT);
        assert_eq!(reply.conditions[0].id, leading, "{said}: {reply:?}");
    }
    let migraine = reply_to("I have a migraine.", ADULT);
    assert!(
        migraine.understood_present.iter().any(|s| s == "Headache"),
        "{migraine:?}"
    );
    // "Swollen" alone names no part: not the gum, nor the glands of the neck.
    let sting = reply_to("I got stung by a wasp and it's swollen.", ADULT);
    assert_eq!(sting.conditions[0].id, "insect_sting_reaction", "{sting:?}");
    assert_eq!(
        sting.understood_present,
        ["Insect bite or sting"],
        "{sting:?}"
    );
}

#[test]
fn everyday_complaints_of_their_own_are_recognised_and_looked_after_at_the_right_place() {
    let toddler = aged(1, Sex::Male);
    for (said, profile, leading, level) in [
        (
            "My gums bleed when I brush my teeth.",
            ADULT,
            "gum_disease",
            Triage::Consultation,
        ),
        (
            "My baby has nappy rash.",
            toddler,
            "nappy_rash",
            Triage::SelfCare,
        ),
        (
            "My toenail is ingrown and red.",
            ADULT,
            "ingrown_toenail",
            Triage::SelfCare,
        ),
        (
            "I've got a verruca on my foot.",
            ADULT,
            "warts_verrucas",
            Triage::SelfCare,
        ),
    ] {
        let reply = reply_to(said, profile);
        assert_eq!(reply.conditions[0].id, leading, "{said}: {reply:?}");
        assert_eq!(reply.triage.level, level, "{said}: {reply:?}");
    }
    // A limb hurt in a fall is an injury, whatever else the message says of it.
    let wrist = reply_to("I fell on my wrist and it's swollen and painful.", ADULT);
    assert!(
        wrist
            .understood_present
            .iter()
            .any(|s| s == "Recent injury"),
        "{wrist:?}"
    );
    // The swollen glands under the ears of mumps are not a tooth's abscess.
    let child = aged(8, Sex::Male);
    let mumps = reply_to(
        "He has a temperature and swelling under his ears on both sides.",
        child,
    );
    assert_eq!(mumps.conditions[0].id, "mumps", "{mumps:?}");
}

#[test]
fn signs_the_nhs_has_seen_whatever_their_cause_set_a_floor() {
    // Hearing lost suddenly: an urgent GP appointment or 111, whether or not it is wax.
    for said in [
        "I woke up deaf in my right ear.",
        "I suddenly lost my hearing in one ear overnight.",
    ] {
        let reply = reply_to(said, ADULT);
        assert_eq!(
            reply.triage.level,
            Triage::Consultation24,
            "{said}: {reply:?}"
        );
    }
    let gradual = reply_to("My hearing has been muffled for a few weeks.", ADULT);
    assert!(gradual.triage.level < Triage::Consultation24, "{gradual:?}");
    // Voices no one else hears are psychosis's, seen urgently.
    let voices = reply_to("I hear voices nobody else can hear.", ADULT);
    assert_eq!(voices.conditions[0].id, "psychosis", "{voices:?}");
    assert_eq!(voices.triage.level, Triage::Consultation24, "{voices:?}");
    // A mole that changes is shown to a GP, though most are harmless.
    let mole = reply_to("My mole has got bigger and darker.", ADULT);
    assert_eq!(mole.triage.level, Triage::Consultation, "{mole:?}");
}

#[test]
fn what_a_clause_only_resembles_beside_what_it_clearly_says_is_not_read() {
    // "My knee hurts" is joint pain; a hot, swollen knee (gout's and an infected joint's
    // sign) is only a near neighbour of its wording, and had ranked gout first.
    let knee = evidence("My knee hurts.");
    assert!(knee.present.contains(&symptom("joint_pain")), "{knee:?}");
    assert!(
        !knee.present.contains(&symptom("red_hot_joint")),
        "{knee:?}"
    );
    let reply = reply_to("My knee hurts.", ADULT);
    assert_ne!(reply.conditions[0].id, "gout", "{reply:?}");
    assert!(reply.triage.level < Triage::Consultation24, "{reply:?}");
    // Said, the sign is read.
    let hot = evidence("My knee has gone red, hot and swollen.");
    assert!(hot.present.contains(&symptom("red_hot_joint")), "{hot:?}");
}

#[test]
fn a_sign_only_the_other_sex_has_is_not_read_from_a_resemblance() {
    let said = "I had a small bleed this morning.";
    let heavy = "Heavy vaginal bleeding now";
    let man = aged(40, Sex::Male);
    let woman = aged(40, Sex::Female);
    assert!(
        !reply_to(said, man)
            .understood_present
            .iter()
            .any(|s| s == heavy),
        "{said}"
    );
    assert!(
        reply_to(said, woman)
            .understood_present
            .iter()
            .any(|s| s == heavy),
        "{said}"
    );
    // Said clearly, it stands: a husband may speak for his wife without naming her.
    let for_her = reply_to("She's pregnant and bleeding heavily.", man);
    assert!(
        for_her.understood_present.iter().any(|s| s == "Pregnant"),
        "{for_her:?}"
    );
    assert_eq!(
        for_her.triage.level,
        Triage::EmergencyAmbulance,
        "{for_her:?}"
    );
}

#[test]
fn a_nail_names_the_finger_or_toe_it_is_of() {
    // A fingernail in the eye is no ingrown toenail.
    let eye = evidence("I got a fingernail in the eye from my toddler.");
    assert!(
        !eye.present.contains(&symptom("ingrown_toenail")),
        "{eye:?}"
    );
    let toe = evidence("My toenail is growing into the skin.");
    assert!(toe.present.contains(&symptom("ingrown_toenail")), "{toe:?}");
}

#[test]
fn a_cramp_in_the_calf_is_a_leg_cramp_unless_the_calf_is_swollen() {
    let cramp = reply_to("I keep getting cramp in my calf at night.", ADULT);
    assert_eq!(cramp.conditions[0].id, "leg_cramps", "{cramp:?}");
    assert_eq!(cramp.triage.level, Triage::SelfCare, "{cramp:?}");
    let clot = reply_to(
        "My calf has gone swollen and warm and I get a cramping pain in it.",
        ADULT,
    );
    assert_eq!(clot.conditions[0].id, "deep_vein_thrombosis", "{clot:?}");
    assert!(clot.triage.level >= Triage::Consultation24, "{clot:?}");
}

#[test]
fn a_lump_coughing_brings_out_is_a_hernia_not_a_cough() {
    let said = "I've got a lump in my groin that gets bigger when I cough.";
    let reply = reply_to(said, ADULT);
    assert!(
        !reply.understood_present.iter().any(|s| s == "Cough"),
        "{reply:?}"
    );
    assert_eq!(reply.conditions[0].id, "inguinal_hernia", "{reply:?}");
    assert_eq!(reply.triage.level, Triage::Consultation, "{reply:?}");
    // A cough said of its own is still one.
    let both = evidence("I've had a cough for a week and a lump in my groin.");
    assert!(both.present.contains(&symptom("cough")), "{both:?}");
}

#[test]
fn a_lump_under_the_skin_is_a_lipoma_or_a_cyst_for_a_gp_to_check() {
    // Of the age lipomas are usually found at.
    let fifty = aged(50, Sex::Male);
    for said in [
        "I've found a lump on my back.",
        "There's a soft lump under the skin of my shoulder that moves when I push it.",
    ] {
        let reply = reply_to(said, fifty);
        let leading = &reply.conditions[0].id;
        assert!(
            leading == "lipoma" || leading == "skin_cyst",
            "{said}: {reply:?}"
        );
        assert!(
            reply.conditions[..3].iter().any(|c| c.id == "lipoma"),
            "{said}: {reply:?}"
        );
        assert_eq!(
            reply.triage.level,
            Triage::Consultation,
            "{said}: {reply:?}"
        );
    }
    // A lump with a place of its own is still that place's.
    let breast = reply_to("I found a lump in my breast.", ADULT);
    assert!(breast.conditions[0].id.contains("breast"), "{breast:?}");
}

#[test]
fn flashing_lights_before_a_headache_are_a_migraine_aura_not_a_detached_retina() {
    let aura = reply_to("I get flashing lights before the headache.", ADULT);
    assert!(
        aura.understood_present
            .iter()
            .any(|s| s == "Visual disturbance before headache"),
        "{aura:?}"
    );
    assert_eq!(aura.triage.emergency_pattern, None, "{aura:?}");
    assert_eq!(aura.conditions[0].id, "migraine", "{aura:?}");
    // Said of migraines, the lights are their aura, in a clause of their own or not.
    let migraines = reply_to("I get migraines with flashing lights.", ADULT);
    assert_eq!(migraines.triage.emergency_pattern, None, "{migraines:?}");
    assert_eq!(migraines.conditions[0].id, "migraine", "{migraines:?}");
    // Flashes said with new floaters are still an emergency.
    let retina = reply_to("I suddenly see flashes of light and new floaters.", ADULT);
    assert!(retina.triage.level >= Triage::Emergency, "{retina:?}");
}

#[test]
fn a_cut_is_treated_at_home_unless_it_is_deep_or_will_not_stop_bleeding() {
    for said in [
        "I cut my finger chopping onions.",
        "I cut my hand and the bleeding has mostly stopped.",
    ] {
        let small = reply_to(said, ADULT);
        assert_eq!(small.conditions[0].id, "minor_cut", "{said}: {small:?}");
        assert_eq!(small.triage.level, Triage::SelfCare, "{said}: {small:?}");
    }
    for said in [
        "I've got a deep cut on my hand.",
        "I cut my finger chopping onions and it won't stop bleeding.",
    ] {
        let reply = reply_to(said, ADULT);
        assert_eq!(reply.conditions[0].id, "laceration", "{said}: {reply:?}");
        assert_eq!(reply.triage.level, Triage::Emergency, "{said}: {reply:?}");
    }
    // Answered, the depth decides.
    for (yes, leading, level) in [
        (&[symptom("deep_cut")][..], "laceration", Triage::Emergency),
        (&[], "minor_cut", Triage::SelfCare),
    ] {
        let mut state = State::default();
        tell(&mut state, "I cut my finger chopping onions.");
        let reply = answer_all(&mut state, yes);
        assert_eq!(reply.conditions[0].id, leading, "{reply:?}");
        assert_eq!(reply.triage.level, level, "{reply:?}");
    }
}

#[test]
fn breathlessness_said_only_with_exertion_is_no_attack_at_rest() {
    let exercise = reply_to("I get short of breath and wheezy when I exercise.", ADULT);
    assert_eq!(exercise.conditions[0].id, "asthma", "{exercise:?}");
    assert_eq!(exercise.triage.level, Triage::Consultation, "{exercise:?}");
    assert!(
        exercise
            .understood_absent
            .iter()
            .any(|s| s == "Severe breathing difficulty"),
        "{exercise:?}"
    );
    // Said at rest, it stays possible (and is asked).
    let rest = reply_to("I'm short of breath at rest and wheezy.", ADULT);
    assert!(rest.understood_absent.is_empty(), "{rest:?}");
}

#[test]
fn food_or_drink_swallowed_is_no_overdose_unless_poison_or_tablets_come_with_it() {
    for said in [
        "I swallowed some water the wrong way and now I keep coughing.",
        "My daughter swallowed some chewing gum.",
    ] {
        let reply = reply_to(said, ADULT);
        assert!(
            reply.triage.emergency_pattern.is_none()
                && !reply
                    .understood_present
                    .iter()
                    .any(|s| s.contains("overdose")),
            "{said}: {reply:?}"
        );
    }
    for said in [
        "I swallowed some water with bleach in it.",
        "I swallowed a glass of water and all my tablets.",
    ] {
        let reply = reply_to(said, ADULT);
        assert_eq!(
            reply.triage.level,
            Triage::EmergencyAmbulance,
            "{said}: {reply:?}"
        );
    }
}

#[test]
fn bleeding_told_in_pregnancy_is_the_wombs_not_a_wounds() {
    let light = reply_to("I'm 10 weeks pregnant and I'm bleeding.", ADULT);
    assert_eq!(
        light.conditions[0].id, "threatened_miscarriage",
        "{light:?}"
    );
    assert_eq!(light.triage.level, Triage::Consultation24, "{light:?}");
    let heavy = reply_to("I'm 12 weeks pregnant and bleeding heavily.", ADULT);
    assert!(heavy.triage.level >= Triage::Emergency, "{heavy:?}");
    let cut = reply_to("I'm pregnant and cut my hand on a knife.", ADULT);
    assert_eq!(cut.conditions[0].id, "minor_cut", "{cut:?}");
}

#[test]
fn a_nosebleed_that_will_not_stop_goes_to_hospital_and_every_nosebleed_is_asked_how_long() {
    for said in [
        "My nose won't stop bleeding.",
        "My nose has been bleeding for 20 minutes.",
    ] {
        fires(said, "nosebleed_not_stopping", Triage::Emergency);
    }
    let mut state = asks_first(
        "I've had a nosebleed this morning after blowing my nose.",
        "nosebleed_not_stopping",
    );
    let reply = answer(&mut state, Answer::Yes);
    assert_eq!(reply.triage.level, Triage::Emergency, "{reply:?}");
    assert!(reply.triage.emergency_pattern.is_some(), "{reply:?}");
}

#[test]
fn tablets_saved_up_to_take_are_a_plan_that_a_no_to_the_thoughts_does_not_undo() {
    let mut state = State::default();
    let said = say(
        &mut state,
        "I've been stockpiling my pills and I'm going to take them all tonight.",
        RecentVitals::default(),
    );
    assert_eq!(
        said["triage"]["emergency_pattern"], "suicide_plan_stated",
        "{said}"
    );
    assert_eq!(said["triage"]["level"], "emergency_ambulance", "{said}");
    let mut asking = !said["question"].is_null();
    while asking {
        let reply = answer(&mut state, Answer::No);
        assert_eq!(reply.triage.level, Triage::EmergencyAmbulance, "{reply:?}");
        assert!(reply.triage.crisis);
        asking = reply.question.is_some();
    }
}

#[test]
fn tablets_gone_missing_near_a_child_are_an_emergency_until_the_swallowing_is_denied() {
    let mut state = State::default();
    let said = say(
        &mut state,
        "Found my toddler with the box of my heart tablets open and I think 4 are missing.",
        RecentVitals::default(),
    );
    assert_eq!(
        said["triage"]["emergency_pattern"], "overdose_or_poisoning",
        "{said}"
    );
    assert_eq!(said["question"]["symptom"], "took_overdose", "{said}");
    let reply = answer(&mut state, Answer::No);
    assert!(reply.triage.level < Triage::Emergency, "{reply:?}");
}

#[test]
fn new_floaters_and_flashes_go_to_eye_casualty_a_migraine_aura_does_not() {
    fires(
        "Since this afternoon I'm seeing a shower of black spots and flashes of light in my left eye.",
        "new_floaters_flashes_or_shadow",
        Triage::Emergency,
    );
    no_emergency("I get zigzag lights in my vision before my migraines start.");
}

#[test]
fn an_arm_gone_like_a_dead_weight_is_a_stroke_sign_an_arm_sore_to_lift_is_not() {
    fires(
        "Mum suddenly can't lift her right arm, it's like a dead weight.",
        "stroke_fast",
        Triage::EmergencyAmbulance,
    );
    no_emergency("Can't lift my arm above shoulder height, it's been sore for a month.");
}

/// The reply to `text` from an adult.
fn tell(state: &mut State, text: &str) -> Reply {
    let input = Input::Text(text.into());
    let (reply, _) = assistant()
        .turn(state, &input, ADULT, RecentVitals::default())
        .unwrap();
    reply
}

#[test]
fn a_wrist_hurt_in_a_fall_stays_a_possible_break_however_well_the_patient_walks() {
    let findings = ["recent_injury", "joint_swelling", "joint_pain", "bruising"].map(symptom);
    let mut state = State::default();
    tell(
        &mut state,
        "Fell off my bike onto my outstretched hand and my wrist is swollen.",
    );
    // "it" here is the wrist the first message named: not a leg that cannot bear weight,
    // as "it" is read with no part named before.
    let refers_back = "I can't move it without a lot of pain.";
    tell(&mut state, refers_back);
    let cannot_bear_weight = symptom("cannot_bear_weight");
    assert!(evidence(refers_back).present.contains(&cannot_bear_weight));
    assert!(!state.evidence.present.contains(&cannot_bear_weight));
    let wrist = answer_all(&mut state, &findings);
    let listed: Vec<&str> = wrist.conditions.iter().map(|c| c.id.as_str()).collect();
    assert!(
        wrist.triage.level >= Triage::Emergency,
        "{:?}",
        wrist.triage
    );
    assert!(listed.contains(&"broken_arm"), "{listed:?}");
    assert!(!listed.contains(&"broken_leg"), "{listed:?}");
    // An ankle the patient can walk on is a sprain to look after at home (Ottawa rules).
    let mut state = State::default();
    tell(
        &mut state,
        "I went over on my ankle playing netball and it's swollen and bruised.",
    );
    let ankle = answer_all(&mut state, &findings);
    assert!(ankle.triage.level < Triage::Emergency, "{:?}", ankle.triage);
    assert_eq!(ankle.conditions[0].id, "ankle_sprain");
}

#[test]
fn a_swollen_eyelid_with_a_bulging_or_painful_to_move_eye_goes_to_hospital_a_stye_does_not() {
    for text in [
        "My eyelid has swollen up and gone red since yesterday and it hurts to move my eye.",
        "My eyelid is really swollen and the eye looks like it's sticking out a bit.",
    ] {
        let (pattern, level) = pattern_of(text);
        assert_eq!(
            pattern.as_deref(),
            Some("orbital_cellulitis_signs"),
            "{text}"
        );
        assert_eq!(level, Triage::Emergency, "{text}");
    }
    no_emergency("I've got a small painful lump on my eyelid, the eye itself is fine.");
}

#[test]
fn a_baby_with_bouts_of_crying_is_asked_about_blood_in_the_poo_and_yes_is_an_emergency_an_adult_is_not()
 {
    let baby = aged(0, Sex::Female);
    let mut state = State::default();
    let mut turn = |input: Input| {
        assistant()
            .turn(&mut state, &input, baby, RecentVitals::default())
            .unwrap()
            .0
    };
    let reply = turn(Input::Text(
        "My 7 month old has bouts of screaming where she pulls her knees up to her tummy,          then she settles for a while."
            .into(),
    ));
    assert!(reply.triage.level < Triage::Emergency, "{reply:?}");
    let question = reply.question.expect("a question");
    assert_eq!(
        question.symptom, "blood_in_stool",
        "asked before telling colic apart"
    );
    let reply = turn(Input::Answer(Answer::Yes));
    assert_eq!(reply.triage.level, Triage::Emergency, "{reply:?}");
    assert_eq!(
        reply.triage.emergency_pattern.as_deref(),
        Some("intussusception_signs")
    );
    // A grieving adult who cannot stop crying is not asked about blood in the poo.
    let asked = all_questions("I've been crying non stop since my dad died.", ADULT);
    assert!(!asked.iter().any(|id| id == "blood_in_stool"), "{asked:?}");
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
fn readings_given_in_words_escalate_as_the_devices_do_and_are_remembered() {
    let level = |reply: &serde_json::Value| -> Triage {
        serde_json::from_value(reply["triage"]["level"].clone()).unwrap()
    };
    let none = RecentVitals::default();
    let mut state = State::default();
    let racing = say(
        &mut state,
        "My heart is racing at 180 and I feel dizzy.",
        none,
    );
    assert_eq!(level(&racing), Triage::Emergency, "{racing}");
    assert_eq!(racing["vitals"]["heart_rate_max"], 180.0);
    assert!(
        racing["triage"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("180 bpm"),
        "{racing}"
    );
    // A later message keeps it; a device's worse reading wins over it.
    let later = say(&mut state, "It has gone on for an hour.", none);
    assert_eq!(later["vitals"]["heart_rate_max"], 180.0, "{later}");
    let device = RecentVitals {
        heart_rate_max: Some(195.0),
        ..none
    };
    let worse = say(&mut state, "Still going.", device);
    assert_eq!(worse["vitals"]["heart_rate_max"], 195.0, "{worse}");

    let low = say(
        &mut State::default(),
        "My oxygen is 89% and I have a cough.",
        none,
    );
    assert_eq!(level(&low), Triage::Emergency, "{low}");
    let pressure = "My blood pressure is 195/115 and I have a headache.";
    let high = say(&mut State::default(), pressure, none);
    assert_eq!(level(&high), Triage::Emergency, "{high}");
    // Normal figures, and figures of something else, change nothing.
    for calm in [
        "My oxygen is 97% and I have a cough.",
        "My heart rate is 72 and I have a cough.",
        "I have had a cough for 21 days.",
    ] {
        let reply = say(&mut State::default(), calm, none);
        assert!(level(&reply) < Triage::Emergency, "{calm}: {reply}");
        assert!(reply["vitals"]["spo2_min"].is_null() || calm.contains("97"));
    }
}

#[test]
fn with_copd_a_saturation_of_90_is_the_patients_usual_not_an_emergency() {
    let ninety = RecentVitals {
        spo2_min: Some(90.0),
        ..RecentVitals::default()
    };
    let level = |reply: &serde_json::Value| -> Triage {
        serde_json::from_value(reply["triage"]["level"].clone()).unwrap()
    };
    let without = say(&mut State::default(), "I have a chesty cough.", ninety);
    assert_eq!(level(&without), Triage::Emergency, "{without}");
    let copd = say(
        &mut State::default(),
        "I have COPD and a chesty cough.",
        ninety,
    );
    assert!(level(&copd) < Triage::Emergency, "{copd}");
    let eighty_six = RecentVitals {
        spo2_min: Some(86.0),
        ..RecentVitals::default()
    };
    let low = say(
        &mut State::default(),
        "I have COPD and a chesty cough.",
        eighty_six,
    );
    assert_eq!(level(&low), Triage::Emergency, "{low}");
}

#[test]
fn a_record_states_history_findings_and_nothing_else() {
    let kb = &assistant().kb;
    let state = assistant()
        .recorded_history(&["Type 2 diabetes".into(), "Asthma".into(), "COPD".into()])
        .unwrap();
    let present: Vec<&str> = state
        .evidence
        .present
        .iter()
        .map(|&s| kb.symptoms[s].id.as_str())
        .collect();
    assert_eq!(
        present,
        ["known_diabetes", "known_copd"],
        "a recorded asthma is not a wheeze now"
    );
    assert!(state.evidence.loose.is_empty() && state.asked.is_empty());
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
    answer(&mut state, Answer::No);
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

#[test]
fn a_sign_only_resembled_is_confirmed_before_its_emergency_stands() {
    let numbness = symptom("numbness_one_side");
    let text = "My face feels funny on one side.";
    // It resembles "one side of face numb" as a sentence, not word by word: loose.
    let found = evidence(text);
    assert!(found.loose.contains(&numbness), "{found:?}");
    let mut state = State::default();
    let reply = say(&mut state, text, RecentVitals::default());
    // Until the patient answers, the emergency stands, and the question is that sign.
    assert_eq!(
        reply["triage"]["emergency_pattern"], "stroke_fast",
        "{reply}"
    );
    assert_eq!(reply["question"]["symptom"], "numbness_one_side", "{reply}");
    let reply = answer(&mut state, Answer::No);
    assert_eq!(reply.triage.emergency_pattern, None, "{reply:?}");
    assert!(reply.triage.level < Triage::EmergencyAmbulance, "{reply:?}");
}

#[test]
fn a_question_passed_over_for_a_message_may_be_asked_again() {
    let mut state = State::default();
    let reply = say(&mut state, "I have a sore throat.", RecentVitals::default());
    let first = assistant()
        .kb
        .symptom(reply["question"]["symptom"].as_str().unwrap())
        .unwrap();
    say(&mut state, "It started yesterday.", RecentVitals::default());
    // Not answered, the question does not count as asked unless it is asked again now.
    assert!(
        state.pending == Some(first) || !state.asked.contains(&first),
        "{state:?}"
    );
    assert!(state.asked.iter().filter(|&&s| s == first).count() <= 1);
}

#[test]
fn self_care_advice_comes_until_a_doctor_is_seen_but_never_before_emergency_care() {
    let kb = &assistant().kb;
    let mut state = State::default();
    let reply = say(
        &mut state,
        "My periods have got really heavy over the last year, I'm changing pads every couple of hours.",
        RecentVitals::default(),
    );
    let leading = kb
        .condition(reply["conditions"][0]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(reply["triage"]["level"], "consultation", "{reply}");
    assert!(!leading.self_care.is_empty(), "{}", leading.id);
    assert_eq!(reply["self_care"], serde_json::json!(leading.self_care));

    let mut state = State::default();
    let reply = say(
        &mut state,
        "Crushing pain in my chest and I'm sweating buckets, and a headache.",
        RecentVitals::default(),
    );
    assert_eq!(reply["triage"]["level"], "emergency_ambulance", "{reply}");
    assert_eq!(reply["self_care"], serde_json::json!([]), "{reply}");
}

/// Answers every question until the assistant stops: "yes" to the symptoms in `yes`,
/// "no" to the others.
fn answer_all(state: &mut State, yes: &[usize]) -> Reply {
    let mut last = None;
    while let Some(pending) = state.pending {
        let said = if yes.contains(&pending) {
            Answer::Yes
        } else {
            Answer::No
        };
        last = Some(answer(state, said));
    }
    last.expect("a question was asked")
}

#[test]
fn the_leading_conditions_warning_signs_are_checked_before_the_advice() {
    let kb = &assistant().kb;
    let heartburn = "I get burning heartburn after meals and acid coming up into my throat.";
    let mut state = State::default();
    say(&mut state, heartburn, RecentVitals::default());
    let reply = answer_all(&mut state, &[]);
    let leading = kb.condition(&reply.conditions[0].id).unwrap();
    assert!(!leading.red_flags.is_empty(), "{}", leading.id);
    assert!(leading.triage < Triage::Emergency, "{}", leading.id);
    // Each of them could raise the level one step: each was asked, and denied.
    for flag in &leading.red_flags {
        let s = kb.symptom(flag).unwrap();
        assert!(
            state.evidence.absent.contains(&s),
            "{flag} unchecked: {state:?}"
        );
    }
    assert_eq!(reply.triage.level, leading.triage, "{reply:?}");

    // A "yes" to one raises the level.
    let first_flag = kb.symptom(&leading.red_flags[0]).unwrap();
    let mut state = State::default();
    say(&mut state, heartburn, RecentVitals::default());
    let reply = answer_all(&mut state, &[first_flag]);
    assert!(state.evidence.present.contains(&first_flag), "{state:?}");
    assert!(reply.triage.level > leading.triage, "{reply:?}");
}

#[test]
fn a_vignettes_device_readings_reach_every_turn() {
    let toml = r#"
        [[vignette]]
        id = "low_oxygen"
        age = 35
        sex = "female"
        complaint = "I have a cough and a runny nose."
        gold_condition = "common_cold"
        gold_triage = "self_care"
        vitals = { spo2_min = 88.0 }
    "#;
    let with_reading = evaluation::parse(toml).unwrap();
    let mut without = with_reading.clone();
    without[0].vitals = RecentVitals::default();
    let level = |vignettes: &[Vignette], protocol| {
        evaluation::evaluate(assistant(), vignettes, protocol, || {})
            .unwrap()
            .outcomes[0]
            .triage
    };
    for protocol in [Protocol::AsTold, Protocol::Answering] {
        assert_eq!(level(&with_reading, protocol), Triage::Emergency);
        assert!(level(&without, protocol) < Triage::Emergency);
    }
}

#[test]
fn the_simulated_patient_answers_from_the_vignettes_findings() {
    let vignette = Vignette {
        id: "sore_throat".into(),
        age: 35,
        sex: Sex::Female,
        complaint: "I have a sore throat.".into(),
        details: None,
        gold_condition: "strep_throat".into(),
        gold_triage: Triage::Consultation,
        present: vec!["fever".into(), "swollen_glands".into()],
        absent: vec!["cough".into()],
        vitals: RecentVitals::default(),
        second_triage: None,
    };
    let run = |protocol| {
        evaluation::evaluate(
            assistant(),
            std::slice::from_ref(&vignette),
            protocol,
            || {},
        )
        .unwrap()
        .outcomes
        .remove(0)
    };
    assert!(run(Protocol::AsTold).answered.is_empty());
    let answering = run(Protocol::Answering);
    assert!(!answering.answered.is_empty());
    for answer in &answering.answered {
        let (symptom, said) = answer.split_once(": ").unwrap();
        let expected = if vignette.present.iter().any(|s| s == symptom) {
            "yes"
        } else {
            "no"
        };
        assert_eq!(said, expected, "{answering:?}");
    }
    // The answers are evidence: what was said yes to is understood present.
    assert!(
        answering
            .answered
            .iter()
            .filter(|a| a.ends_with("yes"))
            .all(|a| {
                let id = a.split_once(": ").unwrap().0;
                let label = &assistant().kb.symptoms[assistant().kb.symptom(id).unwrap()].label;
                answering.understood.contains(label)
            }),
        "{answering:?}"
    );
}

#[test]
fn a_limb_lain_on_and_numb_is_pressure_on_a_nerve_not_a_stroke() {
    let pressed = reply_to("I fell asleep on my arm and now it's numb.", ADULT);
    assert_eq!(
        pressed.conditions[0].id, "nerve_pressure_pins_and_needles",
        "{pressed:?}"
    );
    assert_eq!(pressed.triage.level, Triage::SelfCare, "{pressed:?}");
    assert_eq!(pressed.triage.emergency_pattern, None, "{pressed:?}");
    // A stroke's sign said clearly still calls an ambulance, whatever the arm was lain on…
    let face = reply_to(
        "I slept on my arm and now my face has dropped on one side.",
        ADULT,
    );
    assert_eq!(face.triage.level, Triage::EmergencyAmbulance, "{face:?}");
    // …and an arm found numb on waking, with nothing said of lying on it, is asked about.
    let woke = reply_to("I woke up with a numb arm.", ADULT);
    assert!(woke.triage.emergency_pattern.is_some(), "{woke:?}");
}

#[test]
fn hiccups_dandruff_and_thrush_said_by_name_are_self_care_and_head_lice_stay_head_lice() {
    for (said, condition) in [
        ("I've had hiccups all day and they won't go.", "hiccups"),
        ("I've got dandruff and it's embarrassing.", "dandruff"),
        ("I think I've got thrush down below.", "vaginal_thrush"),
        ("I think my daughter has got head lice.", "head_lice"),
    ] {
        let reply = reply_to(said, ADULT);
        assert_eq!(reply.conditions[0].id, condition, "{said}: {reply:?}");
        assert_eq!(reply.triage.level, Triage::SelfCare, "{said}: {reply:?}");
    }
}

#[test]
fn fingers_named_without_a_word_of_a_wound_are_no_cut() {
    let tingling = "Tingling in my thumb and first two fingers, worse at night.";
    let found = evidence(tingling);
    assert!(!found.present.contains(&symptom("cut_wound")), "{found:?}");
    let reply = reply_to(tingling, aged(50, Sex::Female));
    assert!(reply.triage.level < Triage::Emergency, "{reply:?}");
    // A cut said in other words than "cut" is still one.
    let sliced = reply_to(
        "I sliced my thumb chopping onions and it won't stop bleeding.",
        ADULT,
    );
    assert_eq!(sliced.conditions[0].id, "laceration", "{sliced:?}");
    assert!(sliced.triage.level >= Triage::Emergency, "{sliced:?}");
}

#[test]
fn a_numb_hand_is_not_sciatica_nor_a_numb_foot_carpal_tunnel() {
    let listed = |said: &str| -> Vec<String> {
        let reply = reply_to(said, aged(50, Sex::Female));
        reply
            .conditions
            .iter()
            .take(3)
            .map(|c| c.id.clone())
            .collect()
    };
    let hands = listed("My fingers are numb.");
    assert!(!hands.contains(&"sciatica".to_owned()), "{hands:?}");
    let feet = listed("My foot is numb and tingling.");
    assert!(
        !feet.contains(&"carpal_tunnel_syndrome".to_owned()),
        "{feet:?}"
    );
    // Each is still ranked for its own part.
    assert!(listed("My hands go numb at night.").contains(&"carpal_tunnel_syndrome".to_owned()));
    assert!(
        listed("Pain shooting from my lower back down my leg.").contains(&"sciatica".to_owned())
    );
}

#[test]
fn a_neck_stiff_from_how_it_was_held_is_neck_pain_unless_meningitis_has_other_signs() {
    let held = reply_to("My neck went stiff after a night on a hotel pillow.", ADULT);
    assert!(
        !held
            .understood_present
            .iter()
            .any(|s| s.starts_with("Stiff neck")),
        "{held:?}"
    );
    assert_eq!(held.conditions[0].id, "neck_pain_nonspecific", "{held:?}");
    assert_eq!(held.triage.level, Triage::SelfCare, "{held:?}");
    // With a fever or a dislike of light beside it, the stiff neck is meningitis's sign.
    for said in [
        "Slept awkwardly, now a stiff neck and a temperature of 39.",
        "Stiff neck from sleeping funny and bright lights hurt my eyes.",
    ] {
        let found = evidence(said);
        assert!(
            found.present.contains(&symptom("stiff_neck")),
            "{said}: {found:?}"
        );
    }
}

#[test]
fn a_lump_on_a_limb_is_under_the_skin_and_a_lump_by_the_back_passage_is_piles() {
    let arm = reply_to("I've noticed a lump on my upper arm.", ADULT);
    assert!(
        arm.understood_present
            .iter()
            .any(|s| s == "A lump under the skin"),
        "{arm:?}"
    );
    assert_eq!(arm.conditions[0].id, "skin_cyst", "{arm:?}");
    assert!(arm.triage.level < Triage::Consultation24, "{arm:?}");
    let piles = reply_to("There's a lump by my back passage.", ADULT);
    assert_eq!(piles.conditions[0].id, "haemorrhoids", "{piles:?}");
    // A lump said with no part is no longer the bottom's.
    let knocked = evidence("I banged my knee and now there's a lump.");
    assert!(
        !knocked.present.contains(&symptom("lump_near_anus")),
        "{knocked:?}"
    );
}

#[test]
fn headaches_that_keep_coming_back_are_not_a_cold() {
    let evenings = reply_to("Every evening I get a headache.", ADULT);
    let top_two: Vec<&str> = evenings
        .conditions
        .iter()
        .take(2)
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        top_two.contains(&"tension_headache") && top_two.contains(&"migraine"),
        "{evenings:?}"
    );
    // It asks what kind of headache, not whether there is one.
    assert_ne!(
        evenings.question.as_ref().map(|q| q.symptom.as_str()),
        Some("headache")
    );
    for one_off in [
        "I've had a headache since lunchtime.",
        "I don't normally get headaches but today my head is pounding.",
    ] {
        let found = evidence(one_off);
        assert!(
            !found.present.contains(&symptom("recurring_headaches")),
            "{one_off}: {found:?}"
        );
    }
}

#[test]
fn thrush_in_a_baby_is_oral_thrush_seen_by_a_doctor() {
    for said in [
        "Our baby has got thrush.",
        "My 2 month old has thrush.",
        "I think my 2 month old has thrush.",
    ] {
        let reply = reply_to(said, ADULT);
        assert_eq!(reply.conditions[0].id, "oral_thrush", "{said}: {reply:?}");
        assert!(
            !reply
                .understood_present
                .iter()
                .any(|s| s.starts_with("Vaginal")),
            "{said}: {reply:?}"
        );
    }
    // A baby's is seen by a doctor (the NHS: a GP under 4 months) when the message opens
    // with the baby, after a carer's worry or not.
    for said in [
        "Our baby has got thrush.",
        "My 2 month old has thrush.",
        "I think my 2 month old has thrush.",
    ] {
        let reply = reply_to(said, ADULT);
        assert_eq!(
            reply.triage.level,
            Triage::Consultation,
            "{said}: {reply:?}"
        );
    }
    let nappy = reply_to("My baby has thrush in the nappy area.", ADULT);
    assert_eq!(nappy.conditions[0].id, "nappy_rash", "{nappy:?}");
}

#[test]
fn a_pain_in_the_side_while_running_is_a_stitch_not_the_kidneys() {
    let running = reply_to(
        "I keep getting a sharp pain in my side while I'm running.",
        ADULT,
    );
    assert_eq!(running.conditions[0].id, "exercise_stitch", "{running:?}");
    assert_eq!(running.triage.level, Triage::SelfCare, "{running:?}");
    assert!(
        !running
            .understood_present
            .iter()
            .any(|s| s.starts_with("Pain in the side or back")),
        "{running:?}"
    );
    // With a fever and no running, it is still the kidneys'.
    let fever = reply_to("Pain in my side and a fever, I feel awful.", ADULT);
    assert_eq!(fever.conditions[0].id, "pyelonephritis", "{fever:?}");
    assert_eq!(fever.triage.level, Triage::Consultation24, "{fever:?}");
}

#[test]
fn beliefs_that_others_reach_into_the_mind_are_psychosis_seen_within_a_day() {
    let young_man = aged(24, Sex::Male);
    let beliefs = reply_to(
        "For weeks the television has been sending me messages and the neighbours can hear \
         my thoughts.",
        young_man,
    );
    assert_eq!(beliefs.triage.level, Triage::Consultation24, "{beliefs:?}");
    assert!(
        beliefs.conditions[..3].iter().any(|c| c.id == "psychosis"),
        "{beliefs:?}"
    );
    assert!(
        beliefs
            .understood_present
            .iter()
            .any(|s| s.starts_with("Strange beliefs")),
        "{beliefs:?}"
    );
    // A mind that won't quiet at night is no delusion.
    let busy = reply_to(
        "My head is full of thoughts at night and I can't get to sleep.",
        young_man,
    );
    assert!(
        !busy
            .understood_present
            .iter()
            .any(|s| s.starts_with("Strange beliefs")),
        "{busy:?}"
    );
    assert!(busy.triage.level < Triage::Consultation24, "{busy:?}");
}

#[test]
fn waking_up_with_a_symptom_is_when_it_began_not_drowsiness() {
    let woke = reply_to("I woke up this morning with a headache.", ADULT);
    assert!(
        !woke
            .understood_present
            .iter()
            .any(|s| s.starts_with("Very drowsy") || s == "Trouble sleeping"),
        "{woke:?}"
    );
    assert_ne!(
        woke.question.as_ref().map(|q| q.symptom.as_str()),
        Some("drowsiness"),
        "{woke:?}"
    );
    // A child who has not woken is still asked about.
    let unwoken = reply_to(
        "He hasn't woken up since lunch and is very floppy.",
        aged(2, Sex::Male),
    );
    assert!(unwoken.triage.level >= Triage::Emergency, "{unwoken:?}");
}

#[test]
fn stools_of_a_normal_colour_are_not_pale() {
    let normal = reply_to(
        "Burning pain at the top of my stomach. My poo is a normal colour.",
        ADULT,
    );
    assert!(
        normal.understood_absent.iter().any(|s| s == "Pale stools"),
        "{normal:?}"
    );
    assert!(
        !normal.understood_present.iter().any(|s| s == "Pale stools"),
        "{normal:?}"
    );
}

#[test]
fn a_headache_called_a_migraine_is_a_migraine_unless_its_red_flags_say_otherwise() {
    let migraine = reply_to("I've got a migraine.", ADULT);
    assert_eq!(migraine.conditions[0].id, "migraine", "{migraine:?}");
    // The patient's word is weak beside meningitis's signs.
    let meningitis = reply_to("I have a migraine, a high fever and a stiff neck.", ADULT);
    assert_eq!(meningitis.conditions[0].id, "meningitis", "{meningitis:?}");
    assert_eq!(
        meningitis.triage.level,
        Triage::EmergencyAmbulance,
        "{meningitis:?}"
    );
    // A bad headache is not called one for the patient.
    let bad = reply_to("I have a really bad headache.", ADULT);
    assert!(
        !bad.understood_present
            .iter()
            .any(|s| s.contains("migraine")),
        "{bad:?}"
    );
}

#[test]
fn a_sore_throat_that_has_outlasted_a_week_is_not_an_ordinary_one() {
    let teenager = aged(18, Sex::Male);
    let lasting = reply_to(
        "My throat has been sore for 2 weeks now, the glands in my neck are up and I'm exhausted.",
        teenager,
    );
    assert_eq!(lasting.conditions[0].id, "glandular_fever", "{lasting:?}");
    assert_eq!(lasting.triage.level, Triage::Consultation, "{lasting:?}");
    let days = reply_to(
        "My throat has been sore for 3 days, the glands in my neck are up and I'm exhausted.",
        teenager,
    );
    assert_eq!(days.conditions[0].id, "viral_sore_throat", "{days:?}");
}

#[test]
fn an_illness_that_has_outlasted_its_usual_course_is_seen_by_a_doctor() {
    // The NHS: see a GP if a sore throat has not improved after a week. Every other sign
    // denied, a plain sore throat still leads; how long it has lasted decides the level.
    let adult = aged(30, Sex::Female);
    let (_, lasting) = denying_the_rest("My throat has been sore for ten days.", adult);
    assert_eq!(lasting.conditions[0].id, "viral_sore_throat", "{lasting:?}");
    assert_eq!(lasting.triage.level, Triage::Consultation, "{lasting:?}");
    assert!(
        lasting
            .triage
            .reasons
            .iter()
            .any(|r| r.contains("longer than Viral sore throat")),
        "{lasting:?}"
    );
    let (_, recent) = denying_the_rest("My throat has been sore for two days.", adult);
    assert_eq!(recent.conditions[0].id, "viral_sore_throat", "{recent:?}");
    assert_eq!(recent.triage.level, Triage::SelfCare, "{recent:?}");
}

#[test]
fn pain_in_both_shoulders_is_polymyalgias_and_in_one_is_the_shoulders_own() {
    let older = aged(72, Sex::Female);
    // Polymyalgia's other signs denied, both shoulders stiff in the morning still say it.
    for told in [
        "For a fortnight both my shoulders have been stiff in the morning for an hour.",
        "For a fortnight my shoulders and hips have been stiff in the morning for an hour.",
    ] {
        let (_, both) = denying_the_rest(told, older);
        assert_eq!(
            both.conditions[0].id, "polymyalgia_rheumatica",
            "{told}: {both:?}"
        );
        assert_eq!(both.triage.level, Triage::Consultation, "{told}: {both:?}");
    }
    let one = reply_to("My right shoulder has been stiff for a fortnight.", older);
    assert!(
        !one.understood_present.iter().any(|s| s.contains("both")),
        "{one:?}"
    );
}

#[test]
fn hearing_lost_overnight_is_seen_within_a_day_and_here_typed_for_hear_is_read() {
    for told in [
        "I woke up today and I can't hear a thing out of my right ear. It doesn't hurt.",
        "Woke up and can barely here anything on the left side. No pain.",
    ] {
        let reply = reply_to(told, aged(50, Sex::Male));
        assert!(
            reply
                .understood_present
                .contains(&"Hearing lost suddenly".to_owned()),
            "{told}: {reply:?}"
        );
        assert_eq!(
            reply.triage.level,
            Triage::Consultation24,
            "{told}: {reply:?}"
        );
    }
    // An ear infection found on waking muffles hearing too: not read as sudden loss.
    let infection = reply_to(
        "I woke up with earache and my hearing is muffled.",
        aged(50, Sex::Male),
    );
    assert!(
        !infection
            .understood_present
            .contains(&"Hearing lost suddenly".to_owned()),
        "{infection:?}"
    );
}

#[test]
fn a_stomach_pain_that_eating_eases_is_an_ulcers_not_a_chest_pain_eased_by_leaning_forward() {
    let told = "A gnawing pain high in my tummy that gets better for a while when I eat.";
    let first = reply_to(told, aged(50, Sex::Male));
    assert!(
        first
            .understood_present
            .contains(&"Tummy pain that eases when you eat".to_owned()),
        "{first:?}"
    );
    assert!(
        !first
            .understood_present
            .iter()
            .any(|s| s.starts_with("Chest pain")),
        "{first:?}"
    );
    let (_, last) = denying_the_rest(told, aged(50, Sex::Male));
    assert_eq!(last.conditions[0].id, "peptic_ulcer", "{last:?}");
    assert_eq!(last.triage.level, Triage::Consultation, "{last:?}");
}

#[test]
fn coming_round_on_the_floor_after_a_faint_is_not_a_fall_one_cannot_get_up_from() {
    let older = aged(80, Sex::Female);
    let faint = reply_to(
        "I fainted in the kitchen and woke up on the floor a few seconds later, fine now.",
        older,
    );
    assert!(
        !faint
            .understood_present
            .contains(&"Fallen and can't get up".to_owned()),
        "{faint:?}"
    );
    assert!(faint.triage.level < Triage::Emergency, "{faint:?}");
    let stuck = reply_to(
        "My mum fell and she's on the floor, she can't get up.",
        older,
    );
    assert_eq!(stuck.triage.level, Triage::EmergencyAmbulance, "{stuck:?}");
}

#[test]
fn a_relative_named_without_my_is_the_subject_not_a_new_mother() {
    let reply = reply_to("Mum has been sick all day.", aged(60, Sex::Female));
    assert!(
        !reply
            .understood_present
            .contains(&"Recently given birth".to_owned()),
        "{reply:?}"
    );
    assert_eq!(reply.conditions[0].id, "viral_gastroenteritis", "{reply:?}");
    // A mother who says she is one still is.
    let new_mum = reply_to("I'm a new mum and I feel low.", aged(30, Sex::Female));
    assert!(
        new_mum
            .understood_present
            .contains(&"Recently given birth".to_owned()),
        "{new_mum:?}"
    );
}
