//! `mongodb+srv://` as the drivers read it: the members from the SRV
//! records of `_mongodb._tcp.<name>`, asked of the pod's resolver, each
//! checked with TLS on (verified against the member's own name), ready when
//! one is; the TXT record and the members' domain held to the drivers'
//! rules. The resolver is a real one (Debian's dnsmasq, on a loopback
//! address, answering from the records the test gives it), named by a
//! resolv.conf in the gate's own mount namespace; the members are the
//! scripted MongoDB server on pymongo's codecs, wrapped in `ssl`.

mod common;

use common::*;

const DOMAIN: &str = "lkaw.test";

#[test]
fn mongodb_srv_finds_its_members_in_dns_and_checks_them_over_tls() {
    let test = "mongodb_srv_finds_its_members_in_dns_and_checks_them_over_tls";
    if !private_resolver_available(test) {
        return;
    }
    let pki = Pki::new("test CA");
    let members = ["db-0.cluster0.lkaw.test", "db-1.cluster0.lkaw.test"];
    let files = pki.server("mongodb", &members, false);
    let Some(member) = scripted_tls(test, "mongodb", closed_port(), &files) else {
        return;
    };
    member.until_ready(SCRIPTED_READY);
    let down = RefusedPort::new();
    let srv = |name: &str, host: &str, port: u16| {
        format!("--srv-host=_mongodb._tcp.{name}.{DOMAIN},{host},{port},0,0")
    };
    let records = [
        // cluster0: a member down first (priority 0 is asked first), then one up.
        srv("cluster0", members[0], down.port),
        format!(
            "--srv-host=_mongodb._tcp.cluster0.{DOMAIN},{},{},1,0",
            members[1], member.port
        ),
        format!("--txt-record=cluster0.{DOMAIN},replicaSet=rs0&authSource=admin"),
        format!("--host-record={},127.0.0.1", members[0]),
        format!("--host-record={},127.0.0.1", members[1]),
        // evil: its member is outside its domain.
        srv("evil", "db.elsewhere.example", member.port),
        // odd: a TXT record that the drivers refuse.
        srv("odd", "db-0.odd.lkaw.test", member.port),
        format!("--txt-record=odd.{DOMAIN},ssl=false"),
    ];
    // big: more records than a UDP answer holds (512 bytes without EDNS):
    // the truncated answer is asked again over TCP. The one member up is
    // asked first (priority 0); its certificate is for cluster0's names.
    let mut records = records.to_vec();
    records.push(srv("big", "db-up.big.lkaw.test", member.port));
    records.push("--host-record=db-up.big.lkaw.test,127.0.0.1".to_string());
    for n in 0..30 {
        records.push(format!(
            "--srv-host=_mongodb._tcp.big.{DOMAIN},db-{n:02}-of-a-long-statefulset-name.big.{DOMAIN},{},1,0",
            down.port
        ));
    }
    let Some(dns) = dnsmasq(test, 79, DOMAIN, &records) else {
        return;
    };
    dns.until_ready(DNSMASQ_READY);
    let resolver = ResolvConf::naming([127, 0, 0, 79].into());
    let ca = pki.ca_file();
    let url =
        |name: &str, query: &str| format!("mongodb+srv://app:S3cr3t@{name}.{DOMAIN}/orders{query}");
    at_once(
        [
            (url("cluster0", ""), Some(&*ca), None),
            (
                url("cluster0", ""),
                None,
                Some("(CN=db-0.cluster0.lkaw.test) is issued by CN=test CA"),
            ),
            (
                url("cluster0", &format!("?tlsCAFile={}", path_arg(&ca))),
                None,
                None,
            ),
            (
                url("evil", ""),
                Some(&*ca),
                Some("names db.elsewhere.example, outside evil.lkaw.test's domain"),
            ),
            (
                url("odd", ""),
                Some(&*ca),
                Some("the TXT record of odd.lkaw.test sets ssl, which the drivers refuse"),
            ),
            (
                url("big", "?tlsAllowInvalidHostnames=true"),
                Some(&*ca),
                None,
            ),
            // None up: three reasons shown, the rest counted.
            (url("big", ""), None, Some("no member is ready: ")),
            (url("big", ""), None, Some(" (and 28 more)")),
            (
                url("none", ""),
                Some(&*ca),
                Some("_mongodb._tcp.none.lkaw.test has no SRV records (yet)"),
            ),
        ],
        |(target, ca, refused)| {
            let err = match refused {
                None => ready(&mut resolver.around(&gate_tls_ready(&target, ca))),
                Some(needle) => not_ready(&mut resolver.around(&gate_tls(&target, ca)), needle),
            };
            assert!(!err.contains("S3cr3t"), "{err}");
        },
    );
    // The resolver was asked: SRV and TXT.
    let log = dns.log();
    assert!(
        log.contains(&format!("query[SRV] _mongodb._tcp.cluster0.{DOMAIN}"))
            && log.contains(&format!("query[TXT] cluster0.{DOMAIN}")),
        "{log}"
    );
}
