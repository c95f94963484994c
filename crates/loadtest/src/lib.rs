//! What `conclave-load` and `conclave-soak` share: accounts on a server under test, and what
//! `/proc` says about its process.

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The password of every account the tools make.
pub const PASSWORD: &str = "load-test-password-0123";

/// A signed-in account: its access and refresh tokens.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
}

/// Signs up `username` and logs in.
pub async fn account(http: &reqwest::Client, url: &str, username: &str) -> Result<Session, Error> {
    let body = serde_json::json!({"username": username, "password": PASSWORD});
    let signup = http.post(format!("{url}/api/auth/signup")).json(&body).send().await?;
    if !signup.status().is_success() {
        return Err(format!("signup {username}: {}", signup.status()).into());
    }
    let login: serde_json::Value = http.post(format!("{url}/api/auth/login")).json(&body).send().await?.json().await?;
    session(&login).ok_or_else(|| format!("login {username}: {login}").into())
}

/// The tokens of a login or refresh answer.
pub fn session(answer: &serde_json::Value) -> Option<Session> {
    Some(Session {
        access_token: answer["access_token"].as_str()?.to_owned(),
        refresh_token: answer["refresh_token"].as_str()?.to_owned(),
    })
}

/// What `/proc/<pid>` says of a process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessUsage {
    /// User and system CPU time, in seconds.
    pub cpu_seconds: f64,
    /// Resident memory, in KiB.
    pub rss_kib: u64,
    pub threads: u64,
    /// Open file descriptors (sockets included).
    pub fds: u64,
}

/// Reads `/proc/<pid>`; `None` when the process is gone or unreadable.
pub fn process_usage(pid: u32) -> Option<ProcessUsage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    let fds = u64::try_from(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count()).ok()?;
    Some(ProcessUsage { cpu_seconds: ticks / 100.0, rss_kib: field("VmRSS:")?, threads: field("Threads:")?, fds })
}
