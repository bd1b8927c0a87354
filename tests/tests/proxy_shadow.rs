//! Shadow mode: a proxy in front of one docwire server also sends each read to a second (shadow) server
//! and compares the two replies. A test subscriber captures the proxy's `docwire::proxy::shadow` events:
//! when the shadow holds other data the difference is logged (naming the differing field) while the
//! client sees only the primary's reply; when both hold the same data the replies match and no
//! difference is logged; writes are not sent to the shadow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bson::{Bson, doc};
use docwire_proxy::ProxyMode;
use docwire_tests::proxy::{address, command, number, proxy_config, start, wire};
use docwire_tests::{PATIENCE, start_server};
use tokio::sync::watch;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

const SHADOW_TARGET: &str = "docwire::proxy::shadow";

/// One captured shadow event: its fields by name (`message`, `ns`, `detail`...).
type Event = BTreeMap<String, String>;

/// The shadow events seen so far, and a counter that moves with each.
#[derive(Clone)]
struct Captured {
    events: Arc<Mutex<Vec<Event>>>,
    seen: Arc<watch::Sender<usize>>,
}

struct Fields<'e>(&'e mut Event);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Captured {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Event::new();
        event.record(&mut Fields(&mut fields));
        self.events.lock().unwrap().push(fields);
        self.seen.send_modify(|n| *n += 1);
    }
}

/// The process-wide capture (a global subscriber: the proxy logs from its own tasks on any worker).
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured {
            events: Arc::default(),
            seen: Arc::new(watch::channel(0).0),
        };
        let only_shadow = Targets::new().with_target(SHADOW_TARGET, tracing::Level::DEBUG);
        tracing_subscriber::registry()
            .with(captured.clone().with_filter(only_shadow))
            .try_init()
            .expect("the test subscriber is the first");
        captured
    })
}

impl Captured {
    fn about(&self, ns: &str) -> Vec<Event> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|e| e.get("ns").map(String::as_str) == Some(ns))
            .cloned()
            .collect()
    }

    /// Waits (woken by each new event) until there is a shadow event about `ns`, and returns them all.
    async fn wait_for(&self, ns: &str) -> Vec<Event> {
        let mut seen = self.seen.subscribe();
        let waited = tokio::time::timeout(PATIENCE, async {
            loop {
                let events = self.about(ns);
                if !events.is_empty() {
                    return events;
                }
                seen.changed().await.unwrap();
            }
        })
        .await;
        waited.unwrap_or_else(|_| panic!("no shadow event about {ns}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_mode_logs_a_difference_only_when_the_shadow_answers_differently() {
    let captured = captured();
    let primary = start_server(&[], None).await;
    let shadow = start_server(&[], None).await;
    let (primary_host, shadow_host) = (primary.addrs[0].to_string(), shadow.addrs[0].to_string());
    // The same documents on both in "same"; another quantity on the shadow in "differs".
    for (host, qty) in [(&primary_host, 5), (&shadow_host, 6)] {
        let same: Vec<Bson> = (0..5)
            .map(|i| Bson::Document(doc! {"_id": i, "v": i * 10}))
            .collect();
        command(host, "shop", doc! {"insert": "same", "documents": same}).await;
        command(
            host,
            "shop",
            doc! {"insert": "differs", "documents": [{"_id": 1, "qty": qty}]},
        )
        .await;
    }
    let mut config = proxy_config(&primary_host);
    config.mode = ProxyMode::Shadow;
    config.shadow = Some(shadow_host.clone());
    let proxy = start(config).await;
    let mut client = wire(&address(&proxy)).await;

    // The shadow answers the same: its reply matches and no difference is logged.
    let same = client
        .run_command("shop", doc! {"find": "same", "sort": {"_id": 1}})
        .await
        .unwrap();
    assert_eq!(
        same.get_document("cursor")
            .unwrap()
            .get_array("firstBatch")
            .unwrap()
            .len(),
        5,
        "{same}"
    );
    let events = captured.wait_for("shop.same").await;
    assert!(
        events.iter().all(|e| e["message"] == "shadow reply matches"),
        "{events:?}"
    );

    // The shadow answers differently: the client sees the primary's quantity, the log the difference.
    let differs = client
        .run_command("shop", doc! {"find": "differs", "filter": {"_id": 1}})
        .await
        .unwrap();
    let batch = differs
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap();
    assert_eq!(
        batch,
        &vec![Bson::Document(doc! {"_id": 1, "qty": 5})],
        "{differs}"
    );
    let events = captured.wait_for("shop.differs").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["message"], "shadow reply differs", "{event:?}");
    assert_eq!(event["differences"], "1", "{event:?}");
    assert!(event["detail"].contains("cursor.firstBatch.0.qty"), "{event:?}");
    assert_eq!(event["upstream"], shadow_host, "{event:?}");

    // Writes go to the primary only.
    let inserted = client
        .run_command("shop", doc! {"insert": "writes", "documents": [{"_id": 1}]})
        .await
        .unwrap();
    assert_eq!(number(&inserted, "n"), 1, "{inserted}");
    let on_primary = command(&primary_host, "shop", doc! {"count": "writes"}).await;
    let on_shadow = command(&shadow_host, "shop", doc! {"count": "writes"}).await;
    assert_eq!((number(&on_primary, "n"), number(&on_shadow, "n")), (1, 0));

    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    assert!(primary.shutdown(Duration::from_secs(5)).await);
    assert!(shadow.shutdown(Duration::from_secs(5)).await);
}
