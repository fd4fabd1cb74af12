//! The web dashboard in a real browser: headless Chromium (Debian's), driven over the
//! DevTools protocol, against a running `healthsync up`.
//!
//! A patient signs in on the page and sees the latest readings their watch and cuff
//! published over MQTT (mosquitto_pub), their NEWS2 and their trend charts; a reading
//! published afterwards appears without a reload. They add a device on the page and
//! publish with the key it shows, rotate it (the broker refuses the old key) and revoke it.
//! Another patient's dashboard is refused; a session ended elsewhere sends the page back to
//! sign-in. A clinician sees their care-team patients only and the alert one raised,
//! acknowledges it on the patient's dashboard, and sees their devices without managing
//! them. A patient talks to the symptom assistant from the page and signs out, which ends
//! the session. An admin approves a clinician and puts her on a care team.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    PASSWORD, Up, add_device, add_user, data_dir, free_port, healthsync, stored_readings,
};
use futures_util::{SinkExt, StreamExt};
use nix::sys::signal::Signal;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(30);

/// Headless Chromium with one page, driven over the DevTools protocol.
struct Browser {
    process: Child,
    page: Socket,
    next_id: u64,
}

impl Browser {
    async fn launch(profile: &Path) -> Browser {
        let process = Command::new("chromium")
            .args(common::HEADLESS_CHROMIUM)
            .arg("--remote-debugging-port=0")
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium (run deploy/setup.sh)");
        // Chromium writes the port it chose here once it listens.
        let port_file = profile.join("DevToolsActivePort");
        let deadline = Instant::now() + WAIT;
        let port = loop {
            let written = std::fs::read_to_string(&port_file).unwrap_or_default();
            if let Some(port) = written.lines().next().filter(|l| !l.is_empty()) {
                break port.to_owned();
            }
            assert!(Instant::now() < deadline, "chromium did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let targets: Vec<Value> = reqwest::get(format!("http://127.0.0.1:{port}/json/list"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page = targets
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target");
        let (page, _) = connect_async(page).await.unwrap();
        Browser {
            process,
            page,
            next_id: 0,
        }
    }

    /// Sends a DevTools command and returns its result (events in between are skipped).
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({"id": id, "method": method, "params": params});
        self.page
            .send(Message::Text(command.to_string()))
            .await
            .unwrap();
        loop {
            let message = tokio::time::timeout(WAIT, self.page.next())
                .await
                .expect("an answer from chromium")
                .expect("the DevTools connection is open")
                .unwrap();
            let Message::Text(text) = message else {
                continue;
            };
            let answer: Value = serde_json::from_str(&text).unwrap();
            if answer["id"] == id {
                assert!(answer["error"].is_null(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    async fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
    }

    /// The value of a JavaScript expression in the page (promises awaited).
    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(
            result["exceptionDetails"].is_null(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is neither null, undefined, false nor "", and returns it.
    async fn wait_for(&mut self, expression: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.eval(expression).await;
            if !(value.is_null() || value == false || value == "") {
                return value;
            }
            if Instant::now() >= deadline {
                let page = self.eval("document.body.innerText").await;
                panic!("not in time: {expression}\nthe page says:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The text of the first element `selector` matches, once there is one.
    async fn text_of(&mut self, selector: &str) -> String {
        let expression = format!("document.querySelector({selector:?})?.textContent");
        self.wait_for(&expression)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An attribute of the first element `selector` matches, once there is one.
    async fn attribute(&mut self, selector: &str, name: &str) -> String {
        let expression = format!("document.querySelector({selector:?})?.getAttribute({name:?})");
        self.wait_for(&expression)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Fills the form `id` (field name, value) once it is there, and submits it as the
    /// user would.
    async fn submit(&mut self, id: &str, fields: &[(&str, &str)]) {
        self.wait_for(&format!("document.getElementById({id:?})"))
            .await;
        let fill: String = fields
            .iter()
            .map(|(name, value)| format!("form.elements[{name:?}].value = {value:?};"))
            .collect();
        self.eval(&format!(
            "(() => {{ const form = document.getElementById({id:?}); {fill} form.requestSubmit(); return true; }})()"
        ))
        .await;
    }

    async fn sign_in(&mut self, email: &str) {
        self.submit("login", &[("identifier", email), ("password", PASSWORD)])
            .await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// POSTs JSON without a token from inside the test's runtime; the status and the answer.
async fn http_post_json_async(url: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Publishes readings (`{metric, t, v}`) as the device, over MQTT with QoS 1.
fn publish(mqtt: &str, device: &(String, String), seq: u64, readings: Value) {
    assert!(publish_with(mqtt, device, seq, readings), "refused");
}

/// Whether the broker takes a reading (SpO2 93 %) from the device with this key.
fn publishes(mqtt: &str, device: &(String, String), seq: u64) -> bool {
    let reading = json!([{"metric": "spo2", "t": chrono::Utc::now().to_rfc3339(), "v": 93}]);
    publish_with(mqtt, device, seq, reading)
}

fn publish_with(mqtt: &str, (device, key): &(String, String), seq: u64, readings: Value) -> bool {
    let (host, port) = mqtt.split_once(':').unwrap();
    let payload = json!({"seq": seq, "readings": readings}).to_string();
    Command::new("mosquitto_pub")
        .args([
            "-h", host, "-p", port, "-i", device, "-u", device, "-P", key, "-q", "1",
        ])
        .args(["-t", &format!("devices/{device}/telemetry"), "-m", &payload])
        .stderr(Stdio::null())
        .status()
        .expect("mosquitto_pub (run deploy/setup.sh)")
        .success()
}

#[test]
fn patients_and_clinicians_see_live_vitals_and_only_whom_they_may() {
    let (dir, data) = data_dir();
    let mqtt = format!("127.0.0.1:{}", free_port());
    let up = Up::start_with(&data, &["--mqtt-addr", &mqtt]);
    let base = format!("http://127.0.0.1:{}", up.port);
    let patient = add_user(&data, "pat@example.org", "patient");
    let other = add_user(&data, "other@example.org", "patient");
    let doctor = add_user(&data, "doc@example.org", "clinician");
    let out = healthsync(
        &data,
        &[
            "care-team",
            "add",
            "--patient",
            "pat@example.org",
            "--clinician",
            "doc@example.org",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let watch = add_device(&data, "pat@example.org", "smartwatch");
    let cuff = add_device(&data, "pat@example.org", "bp_monitor");
    let meter = add_device(&data, "pat@example.org", "glucometer");

    // Two earlier days and now: three days of heart-rate trend, and the three NEWS2
    // parameters a watch measures and a cuff's blood pressure, all normal (a score of 0).
    let now = chrono::Utc::now();
    let at = |days: i64| (now - chrono::Duration::days(days)).to_rfc3339();
    publish(
        &mqtt,
        &watch,
        1,
        json!([
            {"metric": "heart_rate", "t": at(2), "v": 64},
            {"metric": "heart_rate", "t": at(1), "v": 70},
            {"metric": "heart_rate", "t": at(0), "v": 72},
            {"metric": "spo2", "t": at(0), "v": 97},
            {"metric": "respiratory_rate", "t": at(0), "v": 14},
        ]),
    );
    publish(
        &mqtt,
        &cuff,
        1,
        json!([{"metric": "blood_pressure", "t": at(0), "systolic": 128, "diastolic": 82}]),
    );
    // One glucose reading very low, two in range, one very high.
    let minutes = |m: i64| (now - chrono::Duration::minutes(m)).to_rfc3339();
    publish(
        &mqtt,
        &meter,
        1,
        json!([
            {"metric": "blood_glucose", "t": minutes(40), "v": 50},
            {"metric": "blood_glucose", "t": minutes(30), "v": 100},
            {"metric": "blood_glucose", "t": minutes(20), "v": 150},
            {"metric": "blood_glucose", "t": minutes(10), "v": 300},
        ]),
    );
    common::wait_until(|| {
        stored_readings(&data, &watch.0) == 5
            && stored_readings(&data, &cuff.0) == 1
            && stored_readings(&data, &meter.0) == 4
    });

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut browser = Browser::launch(&dir.path().join("chromium")).await;
        browser.goto(&format!("{base}/")).await;
        browser.sign_in("pat@example.org").await;

        // The patient lands on their own dashboard, drawn from what the watch sent.
        assert_eq!(browser.text_of("#patient-name").await, "Test Person");
        assert_eq!(
            browser.text_of("[data-metric=heart_rate] .value").await,
            "72"
        );
        assert_eq!(browser.text_of("[data-metric=spo2] .value").await, "97");
        assert_eq!(
            browser
                .text_of("[data-metric=respiratory_rate] .value")
                .await,
            "14"
        );
        assert_eq!(browser.text_of("#news2 strong").await, "0");
        // Metrics the patient has no reading of are not shown.
        assert_eq!(
            browser
                .eval("document.querySelector('[data-metric=body_weight]').hidden")
                .await,
            true
        );
        // One point per day with readings in the heart-rate trend; the last hour's chart
        // has the minute of the latest reading.
        assert_eq!(
            browser
                .attribute("[data-trend=heart_rate] path.line", "data-points")
                .await,
            "3"
        );
        assert_eq!(
            browser
                .attribute("#live-chart path.line", "data-points")
                .await,
            "1"
        );
        // Blood pressure: systolic over diastolic, and a trend chart for each.
        assert_eq!(
            browser.text_of("[data-metric=blood_pressure] .value").await,
            "128/82"
        );
        assert_eq!(
            browser
                .eval("document.querySelectorAll('[data-trend=blood_pressure] path.line').length")
                .await,
            2
        );
        // The week's report: three heart-rate readings, and 128/82 is stage 1 hypertension
        // by its diastolic pressure (ACC/AHA).
        assert_eq!(
            browser
                .text_of("#report [data-summary=heart_rate] .count")
                .await,
            "3"
        );
        assert_eq!(
            browser.text_of("#report .bp-category strong").await,
            "stage 1"
        );
        // Glucose time in range, drawn as one bar of the five ranges' shares.
        assert_eq!(
            browser
                .eval(
                    "['very_low', 'low', 'in_range', 'high', 'very_high'].map((r) => \
                     Number(document.querySelector(`#report [data-range=${r}]`).getAttribute('width')))"
                )
                .await,
            json!([25, 0, 50, 0, 25])
        );
        // A longer trend on request.
        browser
            .eval(
                "(() => {
                    const pick = document.getElementById('trend-days');
                    pick.value = '30';
                    pick.dispatchEvent(new Event('change'));
                    return true;
                })()",
            )
            .await;
        browser
            .wait_for("document.querySelector('#trend-head h2')?.textContent === 'Last 30 days'")
            .await;
        assert_eq!(
            browser
                .attribute("[data-trend=heart_rate] path.line", "data-points")
                .await,
            "3"
        );

        // A reading published now reaches the open page over the WebSocket.
        browser
            .wait_for("document.getElementById('live-state')?.dataset.state === 'live'")
            .await;
        publish(
            &mqtt,
            &watch,
            2,
            json!([{"metric": "heart_rate", "t": chrono::Utc::now().to_rfc3339(), "v": 118}]),
        );
        browser
            .wait_for(
                "document.querySelector('[data-metric=heart_rate] .value').textContent === '118'",
            )
            .await;

        // The watch is listed with when it was last heard from.
        let watch_row = format!("[data-device=\"{}\"]", watch.0);
        assert_eq!(
            browser
                .text_of(&format!("{watch_row} td:nth-child(2)"))
                .await,
            "Smartwatch"
        );
        assert_ne!(
            browser.text_of(&format!("{watch_row} .seen")).await,
            "never"
        );
        // The patient adds a pulse oximeter on the page, which shows its key once; a
        // reading published with that key reaches the page.
        browser
            .submit(
                "add-device",
                &[("kind", "pulse_oximeter"), ("name", "Finger clip")],
            )
            .await;
        let oximeter = (
            browser.text_of("#device-key [data-field=device_id]").await,
            browser.text_of("#device-key [data-field=api_key]").await,
        );
        publish(
            &mqtt,
            &oximeter,
            1,
            json!([{"metric": "spo2", "t": chrono::Utc::now().to_rfc3339(), "v": 93}]),
        );
        browser
            .wait_for("document.querySelector('[data-metric=spo2] .value').textContent === '93'")
            .await;
        // A new key replaces the old one at once: the broker refuses the old one.
        let oximeter_row = format!("[data-device=\"{}\"]", oximeter.0);
        browser
            .eval(&format!(
                "document.querySelector('{oximeter_row} [data-action=rotate]').click(); true"
            ))
            .await;
        let new_key = browser
            .wait_for(&format!(
                "(k => k && k !== {:?} && k)(document.querySelector('#device-key [data-field=api_key]')?.textContent)",
                oximeter.1
            ))
            .await;
        assert!(!publishes(&mqtt, &oximeter, 2));
        assert!(publishes(
            &mqtt,
            &(oximeter.0.clone(), new_key.as_str().unwrap().to_owned()),
            3
        ));
        // Revoking takes a second click, and then the device is revoked.
        for _ in 0..2 {
            browser
                .eval(&format!(
                    "document.querySelector('{oximeter_row} [data-action=revoke]').click(); true"
                ))
                .await;
        }
        browser
            .wait_for(&format!(
                "document.querySelector('{oximeter_row}')?.dataset.status === 'revoked'"
            ))
            .await;

        // Another patient's dashboard is refused by the API, and the page says so.
        browser.goto(&format!("{base}/#/patients/{other}")).await;
        assert_eq!(
            browser.text_of("#view-error").await,
            "You are not allowed to see this."
        );

        // Back on their own dashboard, with its live connection open…
        browser.goto(&format!("{base}/#/patients/{patient}")).await;
        browser
            .wait_for("document.getElementById('live-state')?.dataset.state === 'live'")
            .await;
        // …the session ended elsewhere (signed out with its refresh token): the server
        // closes the page's WebSocket, the page cannot renew its token, and asks to sign
        // in again.
        let refresh = browser
            .eval("JSON.parse(sessionStorage.getItem('healthsync.session')).refresh")
            .await;
        let (status, _) = http_post_json_async(
            &format!("{base}/api/auth/logout"),
            json!({"refresh": refresh}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            browser.text_of("#notice").await,
            "Your session has ended: please sign in again."
        );
        browser.wait_for("document.getElementById('login')").await;

        // The clinician sees their care team only.
        browser.sign_in("doc@example.org").await;
        browser
            .wait_for(&format!(
                "document.querySelector('[data-patient=\"{patient}\"]')"
            ))
            .await;
        assert_eq!(
            browser
                .eval("document.querySelectorAll('#patients tbody tr').length")
                .await,
            1,
            "only the care team's patient"
        );
        // The patient's readings raised alerts (glucose 50 mg/dL; the oximeter's 93 %,
        // which NEWS2 scale 1 scores 2): they are listed, with the patient's name.
        assert_eq!(
            browser.text_of("#alerts [data-alert] a").await,
            "Test Person"
        );
        browser
            .eval(&format!(
                "document.querySelector('[data-patient=\"{patient}\"] a').click(); true"
            ))
            .await;
        browser
            .wait_for(
                "document.querySelector('[data-metric=heart_rate] .value')?.textContent === '118'",
            )
            .await;
        // The clinician acknowledges the first (the most severe) on the dashboard.
        browser
            .wait_for("document.querySelector('#view [data-alert] .actions button')")
            .await;
        browser
            .eval("document.querySelector('#view [data-alert] .actions button').click(); true")
            .await;
        browser
            .wait_for(
                "document.querySelector('#view [data-alert] .muted')?.textContent.startsWith('acknowledged')",
            )
            .await;
        // The clinician sees the patient's devices but does not manage them.
        assert_eq!(
            browser
                .eval("document.querySelectorAll('#devices [data-device]').length")
                .await,
            4
        );
        assert_eq!(
            browser
                .eval("document.querySelector('#add-device, #devices [data-action]') === null")
                .await,
            true
        );
    });
    let acknowledged_by = common::psql(
        &data,
        "SELECT acknowledged_by FROM alerts WHERE status = 'acknowledged'",
    );
    assert_eq!(acknowledged_by, doctor);
    let log = up.stop_with(Signal::SIGTERM);
    assert!(!log.contains("internal error"), "{log}");
}

#[test]
fn a_patient_talks_to_the_symptom_assistant_from_the_page() {
    let (dir, data) = data_dir();
    let up = Up::start(&data);
    let base = format!("http://127.0.0.1:{}", up.port);
    add_user(&data, "pat@example.org", "patient");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let shown = rt.block_on(async {
        let mut browser = Browser::launch(&dir.path().join("chromium")).await;
        browser.goto(&format!("{base}/#/assistant")).await;
        browser.sign_in("pat@example.org").await;
        browser
            .submit(
                "ask",
                &[(
                    "content",
                    "I have had a sore throat and a temperature for three days",
                )],
            )
            .await;
        browser.wait_for("document.querySelector('.reply')").await;
        // What it might be, with probabilities, and the disclaimer, on every reply.
        let conditions = browser
            .eval("document.querySelectorAll('.reply .conditions li').length")
            .await;
        assert!(conditions.as_u64().unwrap() >= 1, "{conditions}");
        assert!(
            browser
                .text_of(".reply .disclaimer")
                .await
                .contains("not a diagnosis")
        );
        // Answering the question it asks sends the answer, and a second reply follows.
        browser
            .wait_for("document.querySelector('.reply [data-answer=no]')")
            .await;
        browser
            .eval("document.querySelector('.reply [data-answer=no]').click(); true")
            .await;
        browser
            .wait_for("document.querySelectorAll('.reply').length === 2")
            .await;
        let shown = browser
            .eval("[...document.querySelectorAll('.reply')].pop().dataset.triage")
            .await;
        // The conversation is listed, and opening it again shows its stored messages.
        browser.goto(&format!("{base}/#/assistant")).await;
        browser
            .wait_for("document.querySelectorAll('#earlier [data-conversation] a').length === 1")
            .await;
        browser
            .eval("document.querySelector('#earlier [data-conversation] a').click(); true")
            .await;
        browser
            .wait_for("document.querySelectorAll('#transcript .reply').length === 2")
            .await;
        assert_eq!(
            browser
                .eval("[...document.querySelectorAll('#transcript .said')].map((p) => p.textContent)")
                .await,
            json!(["I have had a sore throat and a temperature for three days", "No"])
        );
        assert_eq!(
            browser
                .eval("document.querySelector('#transcript .reply [data-answer]') === document.querySelector('#transcript .reply:last-of-type [data-answer]')")
                .await,
            true,
            "only the last reply can still be answered"
        );

        let refresh = browser
            .eval("JSON.parse(sessionStorage.getItem('healthsync.session')).refresh")
            .await;
        browser
            .eval("document.getElementById('logout').click(); true")
            .await;
        browser.wait_for("document.getElementById('login')").await;
        assert_eq!(
            browser.eval("sessionStorage.length").await,
            0,
            "no token left in the tab"
        );
        (shown, refresh)
    });
    // The page shows the stored reply: the patient's two messages and the assistant's two.
    // Signing out on the page ended the session on the server: its refresh token is dead.
    let (shown, refresh) = shown;
    let (status, _) = common::http_post_json(
        &format!("{base}/api/auth/refresh"),
        None,
        json!({"refresh": refresh}),
    );
    assert_eq!(status, 401);
    let stored = common::psql(
        &data,
        "SELECT string_agg(coalesce(reply->'triage'->>'level', content), ',' ORDER BY id) \
         FROM assistant_messages",
    );
    let rows: Vec<&str> = stored.split(',').collect();
    assert_eq!(rows.len(), 4, "{stored}");
    assert_eq!(
        (rows[0], rows[2]),
        (
            "I have had a sore throat and a temperature for three days",
            "no"
        )
    );
    assert_eq!(rows[3], shown.as_str().unwrap());
    up.stop_with(Signal::SIGTERM);
}

#[test]
fn an_admin_approves_a_clinician_and_puts_them_on_a_care_team() {
    let (dir, data) = data_dir();
    let up = Up::start(&data);
    let base = format!("http://127.0.0.1:{}", up.port);
    add_user(&data, "admin@example.org", "admin");
    let patient = add_user(&data, "pat@example.org", "patient");
    // A clinician registers themselves, and waits for an admin.
    let (status, registered) = common::http_post_json(
        &format!("{base}/api/auth/register"),
        None,
        json!({"email": "rita@example.org", "password": PASSWORD, "first_name": "Rita",
               "last_name": "Reyes", "role": "clinician"}),
    );
    assert_eq!(status, 201, "{registered}");
    let rita = registered["user"]["id"].as_str().unwrap().to_owned();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut browser = Browser::launch(&dir.path().join("chromium")).await;
        browser.goto(&format!("{base}/")).await;
        browser.sign_in("admin@example.org").await;
        browser
            .eval(&format!(
                "(async () => {{
                    while (!document.querySelector('#pending [data-user=\"{rita}\"] button')) {{
                        await new Promise((r) => setTimeout(r, 100));
                    }}
                    document.querySelector('#pending [data-user=\"{rita}\"] button').click();
                    return true;
                }})()"
            ))
            .await;
        assert_eq!(
            browser.text_of("#admin-outcome").await,
            "Rita Reyes is approved."
        );
        // Approved, she can be chosen for a care team.
        browser
            .wait_for(&format!(
                "document.querySelector('#care-team [name=clinician] option[value=\"{rita}\"]')"
            ))
            .await;
        browser
            .submit("care-team", &[("clinician", &rita), ("patient", &patient)])
            .await;
        browser
            .wait_for("document.getElementById('admin-outcome').textContent.includes('care team')")
            .await;
        assert_eq!(
            browser.text_of("#admin-outcome").await,
            "Rita Reyes (rita@example.org) is on the care team of Test Person."
        );

        // She signs in and sees her patient.
        browser
            .eval("document.getElementById('logout').click(); true")
            .await;
        browser.sign_in("rita@example.org").await;
        browser
            .wait_for(&format!(
                "document.querySelector('[data-patient=\"{patient}\"]')"
            ))
            .await;
    });
    assert_eq!(
        common::psql(
            &data,
            &format!(
                "SELECT status::text || ' ' || (SELECT count(*) FROM care_team \
                 WHERE clinician_id = u.id AND patient_id = '{patient}') \
                 FROM users u WHERE id = '{rita}'"
            )
        ),
        "active 1"
    );
    up.stop_with(Signal::SIGTERM);
}
