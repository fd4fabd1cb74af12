//! The symptom assistant: patients describe symptoms in their own words and get possible
//! conditions, how urgent it is, whom to see and the next question to ask.
//!
//! - [`knowledge`]: the curated knowledge base (conditions, symptoms, emergency patterns).
//! - [`embedding`]: all-MiniLM-L6-v2 sentence embeddings with candle.
//! - [`bert`]: the BERT encoder the embeddings run, for inference on the CPU.
//! - [`extract`]: free text to symptom evidence (phrasing match, negation, duration and
//!   severity cues).
//! - [`body_sites`]: the parts of the body a clause and a symptom name.
//! - [`readings`]: figures the patient types (a temperature, a pulse, a saturation, a
//!   blood pressure, a blood sugar).
//! - [`reasoning`]: ranking, the follow-up question with the most information, triage.
//! - [`conversation`]: one turn of a conversation, its stored state and its reply.
//! - [`evaluation`]: the assistant measured against the vignettes.

pub mod bert;
pub mod body_sites;
pub mod conversation;
pub mod embedding;
pub mod evaluation;
pub mod extract;
pub mod knowledge;
pub mod readings;
pub mod reasoning;
