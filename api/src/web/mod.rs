//! The web dashboard: one page (`/`) with its style sheet and its scripts (ES modules under
//! `/js/`, one per view or concern, `main.js` the router), compiled into the binary. It
//! signs in against the API and draws a patient's vitals, alerts, devices, report and
//! trends, updated live over the WebSocket; patients also talk to the symptom assistant
//! there.
//!
//! It owns no data and no rule: every read and change goes through the same API and the
//! same authorization as any other client, with the signed-in user's token. The page loads
//! nothing from another server (it works offline), and its Content-Security-Policy lets it
//! run only its own script and talk only to this server.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

const PAGE: &str = include_str!("index.html");
/// The scripts, served at `/js/<name>`.
const SCRIPTS: [(&str, &str); 15] = [
    ("admin.js", include_str!("js/admin.js")),
    ("alerts.js", include_str!("js/alerts.js")),
    ("assistant.js", include_str!("js/assistant.js")),
    ("chart.js", include_str!("js/chart.js")),
    ("devices.js", include_str!("js/devices.js")),
    ("dom.js", include_str!("js/dom.js")),
    ("failure.js", include_str!("js/failure.js")),
    ("format.js", include_str!("js/format.js")),
    ("home.js", include_str!("js/home.js")),
    ("live.js", include_str!("js/live.js")),
    ("login.js", include_str!("js/login.js")),
    ("main.js", include_str!("js/main.js")),
    ("patient.js", include_str!("js/patient.js")),
    ("period-report.js", include_str!("js/period-report.js")),
    ("session.js", include_str!("js/session.js")),
];
const STYLE: &str = include_str!("app.css");

/// Own script, style and connections only; no framing (clickjacking), no plugins.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self' ws: wss:; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // Compiled in: a new binary is a new page, and a reload must not mix versions.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

pub fn router() -> Router<AppState> {
    let page = Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", PAGE) }),
        )
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        );
    SCRIPTS.into_iter().fold(page, |page, (name, script)| {
        page.route(
            &format!("/js/{name}"),
            get(move || async move { asset("text/javascript; charset=utf-8", script) }),
        )
    })
}
