//! `healthsync analytics assistant-eval`: the symptom assistant against each vignette set
//! (the team's, and the held-out sets written blind), once scored on the reply to what the
//! patient told and once after the patient answered its questions — top-1 and top-3
//! accuracy of the condition, exact triage, emergencies under-triaged (and which), triage
//! given against gold, a second rater's agreement with gold, and latency per message —
//! and the extraction alone against its development set.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use healthsync_analytics::assistant::conversation::Assistant;
use healthsync_analytics::assistant::evaluation::{self, Protocol, Report, Vignette};
use healthsync_analytics::assistant::knowledge::Triage;
use indicatif::{ProgressBar, ProgressStyle};

use super::bench::write_report;

#[derive(Args)]
pub struct AssistantEvalArgs {
    /// Vignettes (TOML) to run instead of the sets in the repository (the team's and the
    /// held-out ones, compiled in).
    #[arg(long, value_name = "FILE.toml")]
    vignettes: Option<PathBuf>,
    /// List every vignette the assistant got wrong after its questions were answered (never
    /// a held-out set's: reading them would spend it).
    #[arg(long)]
    misses: bool,
    /// Also write the report as Markdown to this file.
    #[arg(long, value_name = "FILE.md")]
    report: Option<PathBuf>,
}

/// A vignette set as the report names it.
struct VignetteSet {
    title: String,
    vignettes: Vec<Vignette>,
    /// Whether `--misses` may list its errors: never for a held-out set, which reading
    /// them would turn into one more set the assistant is shaped on.
    may_list_misses: bool,
}

/// The held-out sets, oldest first, with what has been read of them.
const HELD_OUT_SETS: [(&str, &str); 12] = [
    (
        "Held-out vignettes (written blind from condition names; of its errors, only the \
         emergencies under-triaged were read, once the second held-out set had been run)",
        evaluation::HELD_OUT,
    ),
    (
        "Second held-out vignettes (written blind the same way; of its errors, only the \
         emergencies under-triaged were read, once the third had been run)",
        evaluation::HELD_OUT_2,
    ),
    (
        "Third held-out vignettes (written blind the same way; of its errors, only the \
         emergencies under-triaged were read, once the fourth had been run)",
        evaluation::HELD_OUT_3,
    ),
    (
        "Fourth held-out vignettes (written blind the same way; never read to find errors: \
         it had no emergency under-triaged to read once the fifth had been run)",
        evaluation::HELD_OUT_4,
    ),
    (
        "Fifth held-out vignettes (written blind the same way; never read to find errors: \
         it had no emergency under-triaged to read once the sixth had been run)",
        evaluation::HELD_OUT_5,
    ),
    (
        "Sixth held-out vignettes (written blind the same way; of its errors, only the \
         emergency under-triaged was read, once the seventh had been run)",
        evaluation::HELD_OUT_6,
    ),
    (
        "Seventh held-out vignettes (written blind the same way; of its errors, only the \
         emergencies under-triaged were read, once the eighth had been run)",
        evaluation::HELD_OUT_7,
    ),
    (
        "Eighth held-out vignettes (written blind the same way; of its errors, only the \
         emergencies under-triaged were read, once the ninth had been run)",
        evaluation::HELD_OUT_8,
    ),
    (
        "Ninth held-out vignettes (written blind the same way; of its errors, only the \
         emergency under-triaged was read, once the tenth had been run; a writer's report \
         had named one case, j061, which a change was seen to move)",
        evaluation::HELD_OUT_9,
    ),
    (
        "Tenth held-out vignettes (written blind the same way; of its errors, only the \
         emergency under-triaged was read, once the eleventh had been run)",
        evaluation::HELD_OUT_10,
    ),
    (
        "Eleventh held-out vignettes (written blind the same way; never read to find errors)",
        evaluation::HELD_OUT_11,
    ),
    (
        "Twelfth held-out vignettes (written blind the same way; never read to find errors)",
        evaluation::HELD_OUT_12,
    ),
];

pub async fn run(args: AssistantEvalArgs) -> anyhow::Result<ExitCode> {
    let sets = match &args.vignettes {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            vec![VignetteSet {
                title: format!("Vignettes of {}", path.display()),
                vignettes: evaluation::parse(&text).context("invalid vignettes")?,
                may_list_misses: true,
            }]
        }
        None => {
            let mut sets = vec![VignetteSet {
                title: "The team's vignettes (also read to find what the assistant gets wrong)"
                    .into(),
                vignettes: evaluation::parse(evaluation::VIGNETTES)?,
                may_list_misses: true,
            }];
            for (title, text) in HELD_OUT_SETS {
                sets.push(VignetteSet {
                    title: title.into(),
                    vignettes: evaluation::parse(text)?,
                    may_list_misses: false,
                });
            }
            sets
        }
    };
    let assistant = Assistant::load()?;
    let total: usize = sets.iter().map(|set| 2 * set.vignettes.len()).sum();
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{spinner} vignettes [{bar:40}] {pos}/{len}, eta {eta}")?
            .progress_chars("=> "),
    );
    let mut markdown = String::from("## Symptom assistant evaluation\n");
    for set in &sets {
        let [as_told, answering] = [Protocol::AsTold, Protocol::Answering].map(|protocol| {
            tokio::task::block_in_place(|| {
                evaluation::evaluate(&assistant, &set.vignettes, protocol, || bar.inc(1))
            })
        });
        let ceiling = evaluation::level_agreement(&assistant.kb, &set.vignettes);
        let raters = evaluation::rater_agreement(&set.vignettes);
        set_section(
            &mut markdown,
            &set.title,
            [&as_told?, &answering?],
            (ceiling, raters),
            args.misses && set.may_list_misses,
        );
    }
    bar.finish_and_clear();
    let messages = evaluation::parse_messages(evaluation::EXTRACTION_DEV)?;
    let extraction = tokio::task::block_in_place(|| evaluation::extraction(&assistant, &messages))?;
    let _ = writeln!(
        markdown,
        "\nExtraction alone, on the development set its thresholds were chosen on ({} \
         labelled messages; a finding is a symptom said present or absent): precision \
         {:.1} %, recall {:.1} %, F1 {:.1} %.",
        messages.len(),
        extraction.precision() * 100.0,
        extraction.recall() * 100.0,
        extraction.f1() * 100.0
    );
    println!("{markdown}");
    if let Some(path) = &args.report {
        write_report(path, &markdown)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One of a report's shares of vignettes.
type Share = fn(&Report) -> f64;

/// One vignette set's results, with the knowledge base's level agreement with gold
/// (`ceiling`) and the second rater's agreement (`raters`: rated, exact, at gold or above).
fn set_section(
    out: &mut String,
    title: &str,
    [as_told, answering]: [&Report; 2],
    (ceiling, raters): (f64, Option<(usize, f64, f64)>),
    misses: bool,
) {
    let n = answering.outcomes.len();
    let questions: usize = answering.outcomes.iter().map(|o| o.answered.len()).sum();
    let _ = writeln!(out, "\n### {title}\n");
    let _ = writeln!(
        out,
        "{n} vignettes, each one conversation of its complaint and details, scored on the \
         last reply: as told (questions unanswered), and after the patient answered the \
         assistant's questions from the findings the vignette states (a symptom it does not \
         mention is answered no; {:.1} questions per conversation on average).\n",
        questions as f64 / n.max(1) as f64
    );
    let _ = writeln!(out, "| Measure | As told | Answering questions | Goal |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    let percent = |f: Share| {
        format!(
            "{:.1} % | {:.1} %",
            f(as_told) * 100.0,
            f(answering) * 100.0
        )
    };
    let shares: [(&str, Share, &str); 5] = [
        ("Top-1 condition", Report::top1, "≥ 60 %"),
        ("Top-3 condition", Report::top3, "≥ 80 %"),
        ("Triage exact", Report::triage_exact, "≥ 85 %"),
        (
            "Triage in three bands (emergency, a doctor, self-care), as Semigran et al. scored",
            Report::triage_three_bands,
            "",
        ),
        (
            "Triage at the gold level or more urgent",
            Report::triage_safe,
            "",
        ),
    ];
    for (measure, share, goal) in shares {
        let _ = writeln!(out, "| {measure} | {} | {goal} |", percent(share));
    }
    let _ = writeln!(
        out,
        "| Emergencies under-triaged | {} | {} | 0 |",
        as_told.emergencies_under_triaged().len(),
        answering.emergencies_under_triaged().len()
    );
    let _ = writeln!(
        out,
        "| Latency per free-text message p50 / p95 | {:.1} / {:.1} ms | | p95 ≤ 50 ms |",
        as_told.latency(50.0).as_secs_f64() * 1e3,
        as_told.latency(95.0).as_secs_f64() * 1e3
    );
    for (protocol, report) in [("as told", as_told), ("answering questions", answering)] {
        let under: Vec<String> = report
            .emergencies_under_triaged()
            .iter()
            .map(|o| {
                format!(
                    "{} ({} given {})",
                    o.id,
                    o.gold_triage.as_str(),
                    o.triage.as_str()
                )
            })
            .collect();
        if !under.is_empty() {
            let _ = writeln!(
                out,
                "\nEmergencies under-triaged, {protocol}: {}.",
                under.join(", ")
            );
        }
    }
    triage_table(out, answering);
    let _ = writeln!(
        out,
        "\nThe knowledge base's level for the gold condition is the gold triage in {:.1} % of \
         the vignettes: exact triage by condition alone, with every condition ranked first, \
         would reach that.",
        ceiling * 100.0
    );
    if let Some((rated, exact, safe)) = raters {
        let _ = writeln!(
            out,
            "\nA second rater (an AI model instructed as an NHS 111 clinician), rating {rated} \
             of them blind from the messages alone, gave the gold level in {:.1} % and the \
             gold level or a more urgent one in {:.1} %: how far two careful raters agree.",
            exact * 100.0,
            safe * 100.0
        );
    }
    if misses {
        let _ = writeln!(
            out,
            "\n| Vignette | Gold | Ranked | Gold triage | Triage | Understood | Answered |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for o in answering
            .outcomes
            .iter()
            .filter(|o| !o.top3() || o.triage != o.gold_triage)
        {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                o.id,
                o.gold_condition,
                o.ranked
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                o.gold_triage.as_str(),
                o.triage.as_str(),
                o.understood.join(", "),
                o.answered.join(", ")
            );
        }
    }
}

/// How many vignettes of each gold level got each level after answering questions, most
/// urgent first: under-triage lies right of the diagonal, over-triage left of it.
fn triage_table(out: &mut String, answering: &Report) {
    let levels: Vec<Triage> = Triage::ALL.into_iter().rev().collect();
    let _ = writeln!(
        out,
        "\nTriage after answering questions, gold level (rows) against the assistant's \
         (columns):\n"
    );
    let names: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
    let _ = writeln!(out, "| Gold \\ Given | {} |", names.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(levels.len()));
    for gold in &levels {
        let counts: Vec<String> = levels
            .iter()
            .map(|given| {
                let n = answering
                    .outcomes
                    .iter()
                    .filter(|o| o.gold_triage == *gold && o.triage == *given)
                    .count();
                n.to_string()
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", gold.as_str(), counts.join(" | "));
    }
}

#[cfg(test)]
mod tests {
    use healthsync_analytics::assistant::evaluation::Outcome;

    use super::*;

    /// A report of vignettes with these gold levels and levels given.
    fn report(levels: &[(Triage, Triage)]) -> Report {
        let outcome = |&(gold_triage, triage)| Outcome {
            id: "v".into(),
            gold_condition: "c".into(),
            gold_triage,
            ranked: Vec::new(),
            triage,
            understood: Vec::new(),
            answered: Vec::new(),
        };
        Report {
            outcomes: levels.iter().map(outcome).collect(),
            latencies: Vec::new(),
        }
    }

    #[test]
    fn three_bands_take_an_emergency_department_for_an_ambulance_and_not_self_care_for_a_doctor() {
        let report = report(&[
            (Triage::Emergency, Triage::EmergencyAmbulance),
            (Triage::Consultation24, Triage::Consultation),
            (Triage::Consultation, Triage::SelfCare),
            (Triage::SelfCare, Triage::SelfCare),
        ]);
        assert_eq!(report.triage_exact(), 0.25);
        assert_eq!(report.triage_three_bands(), 0.75);
    }

    #[test]
    fn the_triage_table_counts_each_gold_level_against_the_level_given() {
        let report = report(&[
            (Triage::Emergency, Triage::Consultation),
            (Triage::Emergency, Triage::Consultation),
            (Triage::SelfCare, Triage::SelfCare),
        ]);
        let mut out = String::new();
        triage_table(&mut out, &report);
        assert!(out.contains("| emergency | 0 | 0 | 0 | 2 | 0 |"), "{out}");
        assert!(out.contains("| self_care | 0 | 0 | 0 | 0 | 1 |"), "{out}");
        assert!(
            out.contains("| emergency_ambulance | 0 | 0 | 0 | 0 | 0 |"),
            "{out}"
        );
    }
}
