//! One accepted connection of a [`crate::FakeProxy`]: its requests read
//! one after another, each answered as the script says, and logged.

use std::{
    io::{self, BufReader},
    net::TcpStream,
    sync::{Arc, Mutex},
    time::Instant,
};

use crate::{Observer, Reply, Request, Script, http, proxy::lock};

/// One accepted connection and what it needs to answer its requests.
pub struct Connection {
    pub number: usize,
    pub log: Arc<Mutex<Vec<Request>>>,
    pub script: Arc<Script>,
    pub observer: Arc<Observer>,
}

impl Connection {
    pub fn run(self, stream: TcpStream) {
        let _ = self.serve(stream);
    }

    fn serve(&self, stream: TcpStream) -> io::Result<()> {
        // Each answer is one write; without NODELAY a kept-alive connection
        // could meet Nagle + delayed ACK and add tens of milliseconds to a check
        // (the benchmark measures exactly that path).
        stream.set_nodelay(true)?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        while let Some(head) = http::read_request(&mut reader)? {
            let request = Request {
                method: head.method,
                path: head.target,
                headers: head.headers,
                at: Instant::now(),
                connection: self.number,
            };
            let index = {
                let mut all = lock(&self.log);
                all.push(request.clone());
                all.len()
            };
            let reply = (self.script)(&request, index);
            let answer = http::Answer {
                head_only: request.method == "HEAD",
                keep_alive: head.keep_alive,
            };
            let answered = answer.head(&mut writer, &reply)?;
            (self.observer)(&request, answered);
            match reply {
                Reply::Status(_)
                | Reply::Redirect(_)
                | Reply::Sized { .. }
                | Reply::Body { .. }
                    if head.keep_alive => {}
                Reply::Status(_)
                | Reply::Redirect(_)
                | Reply::Sized { .. }
                | Reply::Body { .. }
                | Reply::Close => {
                    return Ok(());
                }
                Reply::EndlessBody(_) | Reply::SlowBody { .. } => {
                    return answer.stream_body(&mut writer, &reply);
                }
                Reply::Hang => {
                    // Hold the connection without a word until the client leaves.
                    io::copy(&mut reader, &mut io::sink())?;
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}
