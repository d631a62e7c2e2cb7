//! Real PostgreSQL, Redis, MariaDB, memcached, NATS, ZooKeeper, RabbitMQ
//! and etcd servers (Debian packages `postgresql`, `redis-server`,
//! `mariadb-server`, `memcached`, `nats-server`, `zookeeper`,
//! `rabbitmq-server`, `etcd-server`; `.ci/run` installs them), and the
//! scripted servers of `tests/servers/` on the reference clients' codecs
//! (Kafka, MongoDB, Cassandra) or the reference gRPC implementation, on loopback
//! ports, with their data in temp dirs, each stopped by its PID when its
//! guard drops. A missing server binary is a visible skip here, and a
//! failure under CI (`CI=true`), never a silent pass.

use std::{
    io::Write,
    os::unix::{fs::chown, process::CommandExt},
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    time::{Duration, Instant},
};

use super::{LineReader, path_arg, poll, temp_dir};

/// Server start-up on 2 busy cores takes a few seconds at most.
const START_LIMIT: Duration = Duration::from_secs(30);

/// A server process, stopped (and reaped) when dropped, with its data dir.
pub struct RealServer {
    child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    /// Its stderr and stdout (Redis logs to stdout, the others to stderr).
    log: [LineReader; 2],
    /// How to ask it to stop quickly (PostgreSQL: SIGINT, fast shutdown).
    stop_signal: i32,
    /// What else to stop: processes the server left outside its own
    /// (RabbitMQ's Erlang VM, under `su`, and its epmd).
    also: Option<Box<dyn FnOnce() + Send>>,
    _dir: tempfile::TempDir,
}

impl RealServer {
    /// Waits until the server's log says it accepts connections.
    pub fn until_ready(&self, needle: &str) {
        let found = poll(START_LIMIT, || {
            self.log
                .iter()
                .any(|log| log.text().contains(needle))
                .then_some(())
        });
        assert!(
            found.is_some(),
            "no {needle:?} within {START_LIMIT:?}; got:\n{}",
            self.log()
        );
    }

    /// Waits until the server accepts connections on its port (for a
    /// server that logs nothing when it is ready: ZooKeeper).
    pub fn until_accepting(&self) {
        let found = poll(START_LIMIT, || {
            std::net::TcpStream::connect(("127.0.0.1", self.port))
                .ok()
                .map(drop)
        });
        assert!(
            found.is_some(),
            "not accepting within {START_LIMIT:?}; got:\n{}",
            self.log()
        );
    }

    /// Writes a line to the server's stdin (the scripted gRPC server's
    /// `serve`).
    pub fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("the server's stdin");
        writeln!(stdin, "{line}").expect("write to the server");
    }

    pub fn log(&self) -> String {
        self.log.iter().map(LineReader::text).collect()
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        // SAFETY: signals our own child, which is not reaped yet.
        unsafe { libc::kill(self.child.id() as i32, self.stop_signal) };
        let start = Instant::now();
        let ended = loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                break true;
            }
            if start.elapsed() >= Duration::from_secs(10) {
                break false;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if !ended {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(also) = self.also.take() {
            also();
        }
    }
}

/// A server binary: on PATH, or in one of `dirs` (PostgreSQL's Debian
/// package keeps its binaries in /usr/lib/postgresql/<version>/bin).
/// `None` (after printing why `test` is skipped, or failing under CI).
pub fn server_binary(test: &str, name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let pg_dirs = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(Result::ok)
                .map(|d| d.path().join("bin"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let found = on_path
        .into_iter()
        .chain(pg_dirs)
        .chain([
            PathBuf::from("/usr/sbin"),
            PathBuf::from("/usr/share/zookeeper/bin"),
        ])
        .map(|dir| dir.join(name))
        .find(|path| path.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v != "true"),
            "{test}: {name} is not installed, and CI=true (.ci/run installs it)"
        );
        eprintln!(
            "SKIPPED {test}: {name} is not installed (apt-get install postgresql redis-server mariadb-server memcached nats-server zookeeper rabbitmq-server etcd-server dnsmasq-base)"
        );
    }
    found
}

fn spawn(cmd: &mut Command, port: u16, stop_signal: i32, dir: tempfile::TempDir) -> RealServer {
    // A pipe no server reads but the scripted gRPC one (`say`).
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn the server");
    let stdin = child.stdin.take();
    let log = [
        LineReader::start(child.stderr.take().expect("stderr")),
        LineReader::start(child.stdout.take().expect("stdout")),
    ];
    RealServer {
        child,
        stdin,
        port,
        log,
        stop_signal,
        also: None,
        _dir: dir,
    }
}

/// PostgreSQL on 127.0.0.1:`port`, trusting local users. It refuses to run
/// as root: initdb and the server run as the `postgres` user the package
/// creates, in a temp dir it owns. Not waited for: `until_ready`.
pub fn postgres(test: &str, port: u16) -> Option<RealServer> {
    postgres_with(test, port, None)
}

/// [`postgres`] with `ssl=on`, serving this certificate chain and key
/// (copied where the server's user owns them, mode 0600, as it demands).
pub fn postgres_tls(test: &str, port: u16, files: &super::ServerFiles) -> Option<RealServer> {
    postgres_with(test, port, Some(files))
}

fn postgres_with(test: &str, port: u16, tls: Option<&super::ServerFiles>) -> Option<RealServer> {
    let initdb = server_binary(test, "initdb")?;
    let postgres = server_binary(test, "postgres")?;
    let (uid, gid) = user_ids("postgres")?;
    let dir = temp_dir();
    chown(dir.path(), Some(uid), Some(gid)).expect("chown the temp dir to postgres");
    let data = dir.path().join("data");
    let status = Command::new(initdb)
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
        .arg(&data)
        .env("LC_ALL", "C")
        .env("HOME", dir.path())
        .uid(uid)
        .gid(gid)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run initdb");
    assert!(status.success(), "initdb failed");
    let mut cmd = Command::new(postgres);
    cmd.arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k", path_arg(dir.path())])
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .env("LC_ALL", "C")
        .uid(uid)
        .gid(gid);
    if let Some(files) = tls {
        let files = owned_copy(files, dir.path(), (uid, gid));
        cmd.args(["-c", &format!("ssl_cert_file={}", path_arg(&files.cert))])
            .args(["-c", &format!("ssl_key_file={}", path_arg(&files.key))])
            .args(["-c", "ssl=on"]);
    }
    Some(spawn(&mut cmd, port, libc::SIGINT, dir))
}

/// A copy of a server's certificate and key in `dir`, owned by the
/// server's user, mode 0600 (PostgreSQL refuses a key others can read).
pub(super) fn owned_copy(
    files: &super::ServerFiles,
    dir: &std::path::Path,
    (uid, gid): (u32, u32),
) -> super::ServerFiles {
    let copy = |from: &std::path::Path, name: &str| {
        let to = dir.join(name);
        std::fs::copy(from, &to).expect("copy the TLS file");
        chown(&to, Some(uid), Some(gid)).expect("chown the TLS file");
        std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod the TLS file");
        to
    };
    super::ServerFiles {
        cert: copy(&files.cert, "server.crt"),
        key: copy(&files.key, "server.key"),
    }
}

/// What PostgreSQL's log says once it takes connections.
pub const POSTGRES_READY: &str = "ready to accept connections";

/// Redis on 127.0.0.1:`port`, without persistence; `extra` arguments
/// (e.g. `--requirepass`).
pub fn redis(test: &str, port: u16, extra: &[&str]) -> Option<RealServer> {
    let redis = server_binary(test, "redis-server")?;
    let dir = temp_dir();
    let mut cmd = Command::new(redis);
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            path_arg(dir.path()),
        ])
        .args(extra);
    Some(spawn(&mut cmd, port, libc::SIGKILL, dir))
}

/// What Redis's log says once it takes connections.
pub const REDIS_READY: &str = "Ready to accept connections";

/// MariaDB on 127.0.0.1:`port`, its data created first (as root, which
/// `--user=root` allows).
pub fn mariadb(test: &str, port: u16) -> Option<RealServer> {
    mariadb_with(test, port, &[])
}

/// [`mariadb`] with more of its options (`--ssl-cert`, ...).
pub fn mariadb_with(test: &str, port: u16, extra: &[String]) -> Option<RealServer> {
    let install = server_binary(test, "mariadb-install-db")?;
    let server = server_binary(test, "mariadbd")?;
    let dir = temp_dir();
    let data = dir.path().join("data");
    let status = Command::new(install)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args([
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run mariadb-install-db");
    assert!(status.success(), "mariadb-install-db failed");
    let at = |name: &str| dir.path().join(name).display().to_string();
    let mut cmd = Command::new(server);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--port={port}"))
        .arg(format!("--socket={}", at("sock")))
        .arg(format!("--pid-file={}", at("pid")))
        .args(["--user=root", "--bind-address=127.0.0.1", "--skip-log-bin"])
        .args(extra);
    Some(spawn(&mut cmd, port, libc::SIGKILL, dir))
}

/// What MariaDB's log says once it takes connections.
pub const MARIADB_READY: &str = "ready for connections";

/// memcached on 127.0.0.1:`port` (`-vv`: it logs when it listens).
pub fn memcached(test: &str, port: u16) -> Option<RealServer> {
    let server = server_binary(test, "memcached")?;
    let mut cmd = Command::new(server);
    cmd.args([
        "-u",
        "root",
        "-l",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-vv",
    ]);
    Some(spawn(&mut cmd, port, libc::SIGKILL, temp_dir()))
}

/// What memcached's log says once it takes connections.
pub const MEMCACHED_READY: &str = "server listening";

/// nats-server on 127.0.0.1:`port`.
pub fn nats(test: &str, port: u16) -> Option<RealServer> {
    nats_with(test, port, "")
}

/// nats-server on 127.0.0.1:`port`, with more of its configuration
/// (`max_connections: 1`, an `authorization` block).
pub fn nats_with(test: &str, port: u16, config: &str) -> Option<RealServer> {
    let server = server_binary(test, "nats-server")?;
    let dir = temp_dir();
    let file = dir.path().join("nats.conf");
    std::fs::write(&file, format!("listen: 127.0.0.1:{port}\n{config}\n")).expect("nats.conf");
    let mut cmd = Command::new(server);
    cmd.arg("-c").arg(&file);
    Some(spawn(&mut cmd, port, libc::SIGKILL, dir))
}

/// What nats-server's log says once it takes connections.
pub const NATS_READY: &str = "Server is ready";

/// A standalone ZooKeeper on 127.0.0.1:`port`, its data in a temp dir. It
/// logs nothing (Debian's build has no logger bound): `until_accepting`.
pub fn zookeeper(test: &str, port: u16) -> Option<RealServer> {
    let script = server_binary(test, "zkServer.sh")?;
    let dir = temp_dir();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("the data dir");
    let config = dir.path().join("zoo.cfg");
    std::fs::write(
        &config,
        format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\n",
            data.display()
        ),
    )
    .expect("zoo.cfg");
    let mut cmd = Command::new(script);
    cmd.arg("start-foreground").arg(&config);
    Some(spawn(&mut cmd, port, libc::SIGKILL, dir))
}

/// RabbitMQ on 127.0.0.1:`port`, its node, data and logs in a temp dir
/// owned by the `rabbitmq` user (Debian's wrapper runs the broker as that
/// user, under `su`, in a session of its own), with an epmd of its own on
/// a free port. Both are stopped when the guard drops: the broker by the
/// PID it writes, epmd by its `-kill`.
pub fn rabbitmq(test: &str, port: u16) -> Option<RealServer> {
    rabbitmq_with(test, port, None)
}

/// [`rabbitmq`] with a TLS listener on `tls.0` too, serving `tls.1`.
pub fn rabbitmq_tls(test: &str, port: u16, tls: (u16, &super::ServerFiles)) -> Option<RealServer> {
    rabbitmq_with(test, port, Some(tls))
}

fn rabbitmq_with(
    test: &str,
    port: u16,
    tls: Option<(u16, &super::ServerFiles)>,
) -> Option<RealServer> {
    let server = server_binary(test, "rabbitmq-server")?;
    let (uid, gid) = user_ids("rabbitmq")?;
    let dir = temp_dir();
    chown(dir.path(), Some(uid), Some(gid)).expect("chown the temp dir to rabbitmq");
    let at = |name: &str| dir.path().join(name).display().to_string();
    let epmd_port = super::closed_port();
    let pid_file = dir.path().join("rabbit.pid");
    let mut cmd = Command::new(server);
    if let Some((tls_port, files)) = tls {
        let files = owned_copy(files, dir.path(), (uid, gid));
        let config = dir.path().join("rabbitmq.conf");
        std::fs::write(
            &config,
            format!(
                "listeners.ssl.default = 127.0.0.1:{tls_port}\n\
                 ssl_options.certfile = {}\nssl_options.keyfile = {}\n\
                 ssl_options.verify = verify_none\nssl_options.fail_if_no_peer_cert = false\n",
                files.cert.display(),
                files.key.display()
            ),
        )
        .expect("rabbitmq.conf");
        chown(&config, Some(uid), Some(gid)).expect("chown rabbitmq.conf");
        cmd.env("RABBITMQ_CONFIG_FILE", &config);
    }
    cmd.env("HOME", dir.path())
        .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
        .env("RABBITMQ_NODE_PORT", port.to_string())
        .env("RABBITMQ_DIST_PORT", super::closed_port().to_string())
        .env(
            "RABBITMQ_NODENAME",
            format!("linkerd-await-test-{port}@localhost"),
        )
        .env("RABBITMQ_MNESIA_BASE", at("mnesia"))
        .env("RABBITMQ_LOG_BASE", at("log"))
        .env("RABBITMQ_PID_FILE", &pid_file)
        .env("ERL_EPMD_PORT", epmd_port.to_string())
        // Loopback only, as every server of the tests.
        .env("ERL_EPMD_ADDRESS", "127.0.0.1")
        .env(
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
            "-kernel inet_dist_use_interface {127,0,0,1}",
        );
    let mut server = spawn(&mut cmd, port, libc::SIGKILL, dir);
    server.also = Some(Box::new(move || {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<i32>().ok())
        {
            // SAFETY: kill(2) of the broker's own PID, from its PID file.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // epmd refuses to stop while it still counts the broker's node as
        // alive, which it does for a moment after the broker is gone.
        let _ = poll(Duration::from_secs(5), || {
            Command::new("epmd")
                .args(["-port", &epmd_port.to_string(), "-kill"])
                .output()
                .ok()
                .filter(|out| String::from_utf8_lossy(&out.stdout).contains("Killed"))
                .map(drop)
        });
    }));
    Some(server)
}

/// What RabbitMQ's log says once it takes connections.
pub const RABBITMQ_READY: &str = "Starting broker... completed";

/// A scripted Kafka broker (`tests/servers/kafka_broker.py`, on
/// kafka-python's own codecs: Kafka has no Debian package) on
/// 127.0.0.1:`port`, answering ApiVersions with `error_code`. A missing
/// kafka-python is a visible skip, and a failure under CI.
/// A scripted server of `tests/servers/` (`python3 SCRIPT PORT ARGS...`)
/// whose codecs are the reference client's `module`: a visible skip (a
/// failure under CI) where it is not installed. Each prints
/// [`SCRIPTED_READY`] once it listens.
fn scripted(
    test: &str,
    script: &str,
    module: &str,
    port: u16,
    args: &[&str],
) -> Option<RealServer> {
    scripted_with(test, script, module, port, args, None)
}

/// [`scripted`], over TLS with this certificate chain and key when given
/// (`TLS_CERT`, `TLS_KEY`: `tests/servers/scripted.py`).
pub(super) fn scripted_with(
    test: &str,
    script: &str,
    module: &str,
    port: u16,
    args: &[&str],
    tls: Option<&super::ServerFiles>,
) -> Option<RealServer> {
    if !super::tool_available(test, "python3", &["-c", &format!("import {module}")]) {
        return None;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/servers")
        .join(script);
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(port.to_string()).args(args);
    if let Some(files) = tls {
        cmd.env("TLS_CERT", &files.cert).env("TLS_KEY", &files.key);
    }
    Some(spawn(&mut cmd, port, libc::SIGKILL, temp_dir()))
}

/// What a scripted server prints once it listens.
pub const SCRIPTED_READY: &str = "listening";

/// A Kafka broker on kafka-python's protocol classes, answering every
/// `ApiVersions` with `error_code` (0: up).
pub fn kafka_broker(test: &str, port: u16, error_code: i16) -> Option<RealServer> {
    // Pinned in .ci/run: the module path of these classes changes between
    // kafka-python's major versions.
    let code = error_code.to_string();
    scripted(
        test,
        "kafka_broker.py",
        "kafka.protocol.old.api_versions",
        port,
        &[&code],
    )
}

/// A MongoDB server on pymongo's `bson`, in `state`: primary, secondary,
/// recovering or legacy (no `hello`).
pub fn mongodb_server(test: &str, port: u16, state: &str) -> Option<RealServer> {
    scripted(
        test,
        "mongodb_server.py",
        "bson.objectid, pymongo",
        port,
        &[state],
    )
}

/// A Cassandra node on cassandra-driver's protocol module, in `state`:
/// up, bootstrapping or overloaded.
pub fn cassandra_node(test: &str, port: u16, state: &str) -> Option<RealServer> {
    scripted(
        test,
        "cassandra_node.py",
        "cassandra.protocol",
        port,
        &[state],
    )
}

/// A scripted server of the tests (`kafka`, `mongodb`, `cassandra`) in its
/// ready state, speaking TLS only with this certificate chain and key.
pub fn scripted_tls(
    test: &str,
    kind: &str,
    port: u16,
    files: &super::ServerFiles,
) -> Option<RealServer> {
    let (script, module, state) = match kind {
        "kafka" => ("kafka_broker.py", "kafka.protocol.old.api_versions", "0"),
        "mongodb" => ("mongodb_server.py", "bson.objectid, pymongo", "primary"),
        "cassandra" => ("cassandra_node.py", "cassandra.protocol", "up"),
        other => panic!("no scripted server {other}"),
    };
    scripted_with(test, script, module, port, &[state], Some(files))
}

/// An SMTP server on aiosmtpd (PyPI; `.ci/run` installs it): `plain`,
/// `starttls` or `tls` (implicit, as on 465), with this certificate chain
/// and key for the last two.
pub fn smtp_server(
    test: &str,
    port: u16,
    mode: &str,
    files: Option<&super::ServerFiles>,
) -> Option<RealServer> {
    let mut args = vec![mode];
    if let Some(files) = files {
        args.extend([path_arg(&files.cert), path_arg(&files.key)]);
    }
    scripted(test, "smtp_server.py", "aiosmtpd.controller", port, &args)
}

/// A gRPC server on grpcio: `health` (its health service NOT_SERVING
/// until [`RealServer::say`] `serve`) or `bare` (no health service).
pub fn grpc_server(test: &str, port: u16, mode: &str) -> Option<RealServer> {
    scripted(
        test,
        "grpc_health_server.py",
        "grpc_health.v1.health",
        port,
        &[mode],
    )
}

/// A real HTTP server (Python's `http.server`) whose health document at
/// `/actuator/health` says DOWN until [`RealServer::say`] `up`.
pub fn health_server(test: &str, port: u16) -> Option<RealServer> {
    scripted(test, "health_server.py", "http.server", port, &[])
}

/// [`health_server`] speaking TLS with this certificate chain and key.
pub fn health_server_tls(test: &str, port: u16, files: &super::ServerFiles) -> Option<RealServer> {
    scripted(
        test,
        "health_server.py",
        "http.server",
        port,
        &[path_arg(&files.cert), path_arg(&files.key)],
    )
}

/// etcd on 127.0.0.1:`port` (its gRPC health service is on the client
/// port), a one-member cluster on a free peer port, its data in a temp dir.
pub fn etcd(test: &str, port: u16) -> Option<RealServer> {
    etcd_with(test, port, None)
}

/// [`etcd`] serving its clients (gRPC health among them) over TLS only.
pub fn etcd_tls(test: &str, port: u16, files: &super::ServerFiles) -> Option<RealServer> {
    etcd_with(test, port, Some(files))
}

fn etcd_with(test: &str, port: u16, tls: Option<&super::ServerFiles>) -> Option<RealServer> {
    let server = server_binary(test, "etcd")?;
    let dir = temp_dir();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let client = format!("{scheme}://127.0.0.1:{port}");
    let peer = format!("http://127.0.0.1:{}", super::closed_port());
    let mut cmd = Command::new(server);
    cmd.arg("--data-dir")
        .arg(dir.path().join("data"))
        .args([
            "--listen-client-urls",
            &client,
            "--advertise-client-urls",
            &client,
        ])
        .args([
            "--listen-peer-urls",
            &peer,
            "--initial-advertise-peer-urls",
            &peer,
        ])
        .args(["--initial-cluster", &format!("default={peer}")]);
    if let Some(files) = tls {
        cmd.arg("--cert-file")
            .arg(&files.cert)
            .arg("--key-file")
            .arg(&files.key);
    }
    Some(spawn(&mut cmd, port, libc::SIGKILL, dir))
}

/// What etcd's log says once it takes client requests.
pub const ETCD_READY: &str = "ready to serve client requests";

/// dnsmasq on 127.0.0.`n`:53 answering for the names under `domain` from
/// its `records` alone (`--srv-host=`, `--txt-record=`, `--host-record=`
/// options), NXDOMAIN for the rest of `domain`, asking no one else; it
/// logs each query. Port 53 needs root, as the private resolver does.
pub fn dnsmasq(test: &str, n: u8, domain: &str, records: &[String]) -> Option<RealServer> {
    let server = server_binary(test, "dnsmasq")?;
    let mut cmd = Command::new(server);
    cmd.args(["--keep-in-foreground", "--log-facility=-", "--log-queries"])
        .args([
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--user=root",
        ])
        .arg(format!("--listen-address=127.0.0.{n}"))
        .args(["--bind-interfaces", "--port=53"])
        .arg(format!("--local=/{domain}/"))
        .args(records);
    Some(spawn(&mut cmd, 53, libc::SIGKILL, temp_dir()))
}

/// What dnsmasq logs once it answers.
pub const DNSMASQ_READY: &str = "started, version";

/// A system user's uid and gid (`id`), or a visible skip.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| {
        Command::new("id")
            .args([flag, user])
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
    };
    let ids = id("-u").zip(id("-g"));
    if ids.is_none() {
        eprintln!("SKIPPED: no user {user}");
    }
    ids
}
