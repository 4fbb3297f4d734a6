//! A tiny canned-answer HTTP/1.1 server for client contract tests that need answers no faithful
//! simulator gives: a paging loop, a malformed record, every OAuth error code. Each connection serves
//! one request and closes.
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One canned answer.
pub(crate) struct Canned {
    pub status: u16,
    pub body: String,
}

impl Canned {
    pub(crate) fn json(status: u16, body: serde_json::Value) -> Canned {
        Canned {
            status,
            body: body.to_string(),
        }
    }
}

type Handler = dyn Fn(&str, &str) -> Canned + Send + Sync;

pub(crate) struct StubServer {
    pub base_url: String,
    hits: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StubServer {
    /// Serves `handler(method, path_and_query)` on a free port of 127.0.0.1.
    pub(crate) async fn start(
        handler: impl Fn(&str, &str) -> Canned + Send + Sync + 'static,
    ) -> StubServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stub server");
        let base_url = format!("http://{}", listener.local_addr().expect("local addr"));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = {
            let hits = hits.clone();
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let handler = handler.clone();
                    let hits = hits.clone();
                    tokio::spawn(async move {
                        let Some((method, target)) = read_request(&mut stream).await else {
                            return;
                        };
                        hits.lock().unwrap().push(format!("{method} {target}"));
                        let canned = handler(&method, &target);
                        let head = format!(
                            "HTTP/1.1 {} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            canned.status,
                            canned.body.len()
                        );
                        let _ = stream.write_all(head.as_bytes()).await;
                        let _ = stream.write_all(canned.body.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    });
                }
            })
        };
        StubServer {
            base_url,
            hits,
            task,
        }
    }

    /// `"METHOD /path?query"` of every request served, oldest first.
    pub(crate) fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

/// Reads the request head and body; returns the method and request target.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let content_length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + content_length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut first = head.lines().next()?.split_whitespace();
    Some((first.next()?.to_string(), first.next()?.to_string()))
}
