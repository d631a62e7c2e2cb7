//! The timeline the demo prints: each party's lines as they come, stamped
//! with the time since the start, and the verdict at the end.

use std::{
    ffi::OsString,
    io::{BufRead, BufReader, Read},
    process::ExitStatus,
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use sim_proxy::Answered;

use crate::{DB_BACKOFF, DB_READY_AFTER, Note, READY_AFTER, REFUSE_FOR, Who};

/// Sends each line of `stream` as it comes, stamped with its arrival time.
pub fn watch_lines(
    stream: Option<impl Read + Send + 'static>,
    who: Who,
    start: Instant,
    notes: mpsc::Sender<Note>,
) {
    thread::spawn(move || {
        if let Some(stream) = stream {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let _ = notes.send(Note::Line(who, start.elapsed(), line));
            }
        }
        let _ = notes.send(Note::Closed);
    });
}

/// What the timeline has shown so far.
#[derive(Default)]
pub struct Story {
    not_ready_answers: usize,
    first_ok: Option<Duration>,
    app_started: Option<(Duration, String)>,
    gate_said_ready: bool,
    gate_said_db_ready: bool,
    pub closed: usize,
}

impl Story {
    pub fn hear(&mut self, note: Note) {
        match note {
            Note::Line(who, at, text) => {
                let text = match who {
                    Who::Gate => {
                        self.gate_said_ready |= text.contains("proxy ready after");
                        self.gate_said_db_ready |=
                            text.contains("postgres://") && text.contains("ready after");
                        without_timestamp(&text).to_string()
                    }
                    Who::App => {
                        if self.app_started.is_none() {
                            self.app_started = Some((at, text.clone()));
                        }
                        text
                    }
                    Who::Proxy | Who::Db => text,
                };
                print_line(at, who, &text);
            }
            Note::Request(at, what, answered) => {
                let ok = matches!(answered, Answered::Status(code) if (200..300).contains(&code));
                if ok && self.first_ok.is_none() {
                    self.first_ok = Some(at);
                    print_line(at, Who::Proxy, &format!("{what} -> {answered}"));
                } else if !ok {
                    self.not_ready_answers += 1;
                    if self.not_ready_answers == 1 {
                        let text = format!(
                            "{what} -> {answered}  (the gate keeps checking; further answers not shown)"
                        );
                        print_line(at, Who::Proxy, &text);
                    }
                }
            }
            Note::Closed => self.closed += 1,
        }
    }

    /// Checks the outcome and prints the summary.
    pub fn conclude(self, status: ExitStatus, gate_pid: u32) -> Result<(), String> {
        println!();
        if !status.success() {
            return Err(format!(
                "the gate (or the app) exited with {status}; its log is above"
            ));
        }
        let Some((app_at, app_line)) = self.app_started else {
            return Err("the app never printed its line".to_string());
        };
        if !self.gate_said_ready || !self.gate_said_db_ready {
            return Err(
                "the gate never logged that the proxy and the database were ready".to_string(),
            );
        }
        if app_at < DB_READY_AFTER {
            return Err(format!(
                "the app started at {}, before the database turned ready at {}",
                seconds(app_at),
                seconds(DB_READY_AFTER)
            ));
        }
        println!(
            "the proxy turned ready at {}, the database at {}; the app started at {}: {} after the last",
            seconds(READY_AFTER),
            seconds(DB_READY_AFTER),
            seconds(app_at),
            millis(app_at - DB_READY_AFTER)
        );
        println!(
            "the gate waited through {} of refused connections and {} not-ready answers; its checks are at most 50ms apart (-b/--backoff)",
            millis(REFUSE_FOR),
            self.not_ready_answers
        );
        println!(
            "then it waited for the database through the proxy, which accepted every connection: only PostgreSQL's own answer showed it was up (checks at most {DB_BACKOFF} apart, --wait-for-backoff)"
        );
        if app_line.contains(&format!("PID {gate_pid}")) {
            println!(
                "the app kept the gate's PID {gate_pid}: the gate exec()s it, nothing stays in between"
            );
        }
        println!("ok");
        Ok(())
    }
}

pub fn print_line(at: Duration, who: Who, text: &str) {
    let who = match who {
        Who::Proxy => "proxy",
        Who::Db => "db",
        Who::Gate => "gate",
        Who::App => "app",
    };
    println!("  {:>7}  {who:<5}  {text}", seconds(at));
}

/// The gate's plain log lines start with an RFC 3339 timestamp; the timeline has its own clock.
pub fn without_timestamp(line: &str) -> &str {
    match line.split_once(' ') {
        Some((first, rest))
            if first.len() > 10
                && first.starts_with(|c: char| c.is_ascii_digit())
                && first.contains('T') =>
        {
            rest.trim_start()
        }
        _ => line,
    }
}

pub fn seconds(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

pub fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

/// `sh -c 'echo ...'` as a user would type it.
pub fn shell_words(program: &OsString, args: &[OsString]) -> String {
    std::iter::once(program)
        .chain(args)
        .map(|word| {
            let word = word.to_string_lossy();
            if word.contains(|c: char| c.is_whitespace() || c == '"' || c == '$') {
                format!("'{word}'")
            } else {
                word.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
