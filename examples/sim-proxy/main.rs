//! A simulated service-mesh proxy admin server, to try linkerd-await without a
//! mesh and to test it: it refuses connections while "starting", answers the
//! readiness path with 503 (or hangs, closes, redirects) until it is "ready",
//! then 200, and answers POST /shutdown like Linkerd (or /quitquitquit like Envoy).
//! The server and its timeline are the `sim-proxy` crate's; this is its command line.
//!
//! ```text
//! cargo run --example sim-proxy -- --refuse-for 300ms --ready-after 2s
//! ```
//!
//! Prints exactly one line to stdout, `listening on <addr>`, once connections
//! are accepted (scripts and tests wait for it), and one line per request to
//! stderr. Every duration counts from the start of the process.

use std::{
    io::Write,
    net::SocketAddr,
    process::ExitCode,
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use clap::Parser;
use sim_proxy::{
    Answered, FailMode, FakeProxy, Outbound, Request, Reserved, Timeline, is_accepted_shutdown,
};

/// A simulated proxy admin server: refuses, then answers 503, then 200 on its readiness path.
#[derive(Debug, Parser)]
#[command(name = "sim-proxy", max_term_width = 100)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed in the `listening on` line)
    #[arg(
        long,
        env = "SIM_PROXY_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:4191"
    )]
    listen: SocketAddr,

    /// Do not listen until this long after start: connections are refused, as before a
    /// proxy's admin server is up (the address is bound and reported on stderr)
    #[arg(long, env = "SIM_PROXY_REFUSE_FOR", value_name = "DUR", value_parser = parse_duration,
          default_value = "0")]
    refuse_for: Duration,

    /// Answer the readiness path as not ready until this long after start, then 200
    #[arg(long, env = "SIM_PROXY_READY_AFTER", value_name = "DUR", value_parser = parse_duration,
          default_value = "0")]
    ready_after: Duration,

    /// The readiness path (Linkerd: /ready, Istio: /healthz/ready)
    #[arg(long, env = "SIM_PROXY_READY_PATH", value_name = "PATH", default_value = "/ready",
          value_parser = parse_path)]
    ready_path: String,

    /// Status of a POST to /shutdown or /quitquitquit (404 = Linkerd without the
    /// config.linkerd.io/proxy-admin-shutdown annotation)
    #[arg(long, env = "SIM_PROXY_SHUTDOWN_STATUS", value_name = "CODE", default_value_t = 200,
          value_parser = clap::value_parser!(u16).range(200..=599))]
    shutdown_status: u16,

    /// Exit 0 after answering a POST to /shutdown or /quitquitquit with a 2xx status,
    /// as the proxy of a Job's pod does
    #[arg(long, env = "SIM_PROXY_EXIT_ON_SHUTDOWN")]
    exit_on_shutdown: bool,

    /// Also play the proxy's outbound listener: accept every connection on LISTEN, then
    /// forward it to TARGET, or close it when TARGET refuses, as the mesh does
    /// (repeatable; e.g. 127.0.0.1:15432=127.0.0.1:5432, to try --wait-for through it)
    #[arg(long, env = "SIM_PROXY_OUTBOUND", value_name = "LISTEN=TARGET",
          value_parser = parse_outbound, action = clap::ArgAction::Append)]
    outbound: Vec<(SocketAddr, SocketAddr)>,

    /// How not-ready readiness checks are answered (none: a 503 response)
    #[arg(long, env = "SIM_PROXY_FAIL_MODE", value_name = "MODE", value_enum,
          default_value_t = FailMode::None)]
    fail_mode: FailMode,
}

fn main() -> ExitCode {
    let start = Instant::now();
    let args = Args::parse();
    exit_on_termination_signals();

    let reserved = match Reserved::bind(args.listen) {
        Ok(reserved) => reserved,
        Err(e) => {
            eprintln!("sim-proxy: cannot bind {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = reserved.addr();
    if !args.refuse_for.is_zero() {
        eprintln!(
            "sim-proxy: refusing connections on {addr} until {}ms after start",
            args.refuse_for.as_millis()
        );
        thread::sleep(args.refuse_for.saturating_sub(start.elapsed()));
    }
    let listener = match reserved.listen() {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("sim-proxy: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };

    // The one line on stdout, flushed at once: whoever reads it through a pipe
    // (a test, a script) must see it now, not when a buffer fills.
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "listening on {addr}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        // Nobody reads stdout any more; the server is still useful.
        eprintln!("sim-proxy: cannot write to stdout");
    }
    drop(stdout);
    eprintln!(
        "sim-proxy: {} answers {} until {}ms after start, then 200; POST /shutdown answers {}{}",
        args.ready_path,
        match args.fail_mode {
            FailMode::None => "503",
            FailMode::Hang => "nothing (hang)",
            FailMode::Close => "by closing the connection",
            FailMode::Redirect => "302",
        },
        args.ready_after.as_millis(),
        args.shutdown_status,
        if args.exit_on_shutdown {
            " and exits"
        } else {
            ""
        },
    );

    // Kept for as long as the process runs, like the admin server below.
    let mut outbound = Vec::new();
    for (listen, target) in &args.outbound {
        match Outbound::bind(*listen, *target) {
            Ok(forwarder) => {
                eprintln!(
                    "sim-proxy: outbound {} accepts every connection, then forwards it to {target} or closes it",
                    forwarder.addr()
                );
                outbound.push(forwarder);
            }
            Err(e) => {
                eprintln!("sim-proxy: cannot listen on {listen} for outbound traffic: {e}");
                return ExitCode::FAILURE;
            }
        }
    }

    let exit_on_shutdown = args.exit_on_shutdown;
    let timeline = Timeline {
        ready_path: args.ready_path,
        ready_after: args.ready_after,
        fail_mode: args.fail_mode,
        shutdown_status: args.shutdown_status,
    };
    let observer = move |request: &Request, answered: Answered| {
        eprintln!(
            "{:>7}ms {} {} -> {answered}",
            request.at.saturating_duration_since(start).as_millis(),
            request.method,
            request.path,
        );
        if exit_on_shutdown && is_accepted_shutdown(request, answered) {
            // The answer is already written: the client sees it, then the connection closes.
            eprintln!("sim-proxy: shutdown requested; exiting");
            std::process::exit(0);
        }
    };
    // Serves on threads of its own until the process ends: by a signal, or
    // after an accepted shutdown with --exit-on-shutdown.
    let _proxy = match FakeProxy::observed(
        listener,
        Arc::new(timeline.script(start)),
        Arc::new(observer),
    ) {
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("sim-proxy: cannot serve on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    loop {
        thread::park();
    }
}

/// SIGTERM and SIGINT end the simulator at once with status 0, as a proxy's
/// graceful shutdown does. An installed handler matters when the simulator is
/// PID 1 of a container: the kernel drops signals without one there, and
/// `docker stop` would wait its whole grace period.
fn exit_on_termination_signals() {
    extern "C" fn exit_now(_signal: libc::c_int) {
        const MESSAGE: &[u8] = b"sim-proxy: terminated by a signal; exiting\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe; the buffer is static.
        unsafe {
            libc::write(libc::STDERR_FILENO, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::_exit(0);
        }
    }
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: installs a handler that only makes async-signal-safe calls.
        unsafe {
            libc::signal(
                signal,
                exit_now as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// `LISTEN=TARGET`, two socket addresses.
fn parse_outbound(text: &str) -> Result<(SocketAddr, SocketAddr), String> {
    const HINT: &str = "expected LISTEN=TARGET, e.g. 127.0.0.1:15432=127.0.0.1:5432";
    let (listen, target) = text.split_once('=').ok_or(HINT)?;
    let addr = |s: &str| {
        s.trim()
            .parse::<SocketAddr>()
            .map_err(|e| format!("{e}; {HINT}"))
    };
    Ok((addr(listen)?, addr(target)?))
}

/// `0`, or `<integer><unit>` pieces with unit `ms`, `s`, `m` or `h`: `300ms`, `2s`,
/// `1m30s` (the gate's syntax, without fractions such as `1.5s`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    const HINT: &str = "expected e.g. 0, 300ms, 2s or 1m30s";
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(format!("empty duration; {HINT}"));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_end);
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("bad duration '{text}'; {HINT}"))?;
        let millis_per_unit = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(format!("bad unit '{unit}' in '{text}'; {HINT}")),
        };
        total = number
            .checked_mul(millis_per_unit)
            .map(Duration::from_millis)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("'{text}' is too long; {HINT}"))?;
        rest = tail;
    }
    Ok(total)
}

fn parse_path(text: &str) -> Result<String, String> {
    if text.starts_with('/') && !text.contains(char::is_whitespace) {
        Ok(text.to_string())
    } else {
        Err("expected an absolute path such as /ready or /healthz/ready".to_string())
    }
}
