//! mongod's decorable_test cases: construct/destroy counts, reverse drop order, unwinding a failed
//! constructor, alignment, owner lookup — on ServiceContext, Client and OperationContext.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use docwire_rpc::{ErrorCode, Status};
use docwire_service::{
    Client, ClientObserver, DecorationRegistry, MockClock, OperationContext, OperationHandle, ServiceContext,
    ServiceContextBuilder, WeakServiceContext,
};

fn builder() -> ServiceContextBuilder {
    let mut builder = ServiceContext::builder();
    builder.clock(Arc::new(MockClock::new()));
    builder
}

#[derive(Default)]
struct Counts {
    constructed: AtomicUsize,
    destroyed: AtomicUsize,
}

/// A decoration that counts its constructions and drops.
struct Counted(Arc<Counts>);

impl Counted {
    fn new(counts: &Arc<Counts>) -> Counted {
        counts.constructed.fetch_add(1, Ordering::SeqCst);
        Counted(counts.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.destroyed.fetch_add(1, Ordering::SeqCst);
    }
}

fn counts(c: &Counts) -> (usize, usize) {
    (
        c.constructed.load(Ordering::SeqCst),
        c.destroyed.load(Ordering::SeqCst),
    )
}

#[test]
fn decorations_are_built_and_dropped_with_each_owner() {
    let (service_counts, client_counts, op_counts): (Arc<Counts>, Arc<Counts>, Arc<Counts>) =
        Default::default();
    let mut builder = builder();
    let sc = service_counts.clone();
    builder.decorate_service_context(move |_| Ok(Counted::new(&sc)));
    let cc = client_counts.clone();
    builder.decorate_client(move |_| Ok(Counted::new(&cc)));
    let oc = op_counts.clone();
    builder.decorate_operation_context(move |_| Ok(Counted::new(&oc)));
    let service = builder.build().unwrap();
    assert_eq!(counts(&service_counts), (1, 0));

    let mut first = service.make_client("a", None).unwrap();
    let second = service.make_client("b", None).unwrap();
    assert_eq!(counts(&client_counts), (2, 0));
    let op = first.make_operation_context().unwrap();
    assert_eq!(counts(&op_counts), (1, 0));
    drop(op);
    assert_eq!(counts(&op_counts), (1, 1));
    drop(second);
    assert_eq!(counts(&client_counts), (2, 1));
    drop(first);
    assert_eq!(counts(&client_counts), (2, 2));
    drop(service);
    assert_eq!(counts(&service_counts), (1, 1));
}

#[test]
fn decorations_drop_in_reverse_order_of_declaration() {
    struct Logged(&'static str, Arc<Mutex<Vec<&'static str>>>);
    impl Drop for Logged {
        fn drop(&mut self) {
            self.1.lock().unwrap().push(self.0);
        }
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut builder = builder();
    for name in ["first", "second", "third"] {
        let log = log.clone();
        builder.decorate_client(move |_| Ok(Logged(name, log.clone())));
    }
    let service = builder.build().unwrap();
    drop(service.make_client("c", None).unwrap());
    assert_eq!(*log.lock().unwrap(), ["third", "second", "first"]);
}

#[test]
fn a_failing_constructor_unwinds_those_already_built() {
    #[derive(Default)]
    struct Observed(AtomicUsize);
    impl ClientObserver for Observed {
        fn on_create_client(&self, _: &Client) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (before, after) = (Arc::<Counts>::default(), Arc::<Counts>::default());
    let observer = Arc::new(Observed::default());
    let mut builder = builder();
    let b = before.clone();
    builder.decorate_client(move |_| Ok(Counted::new(&b)));
    builder.decorate_client(|_| Err::<(), _>(Status::new(ErrorCode::BadValue, "refused")));
    let a = after.clone();
    builder.decorate_client(move |_| Ok(Counted::new(&a)));
    builder.add_client_observer(observer.clone());
    let service = builder.build().unwrap();

    let status = service.make_client("c", None).unwrap_err();
    assert_eq!(status.code(), ErrorCode::BadValue);
    assert_eq!(
        counts(&before),
        (1, 1),
        "the decoration built before the failure was dropped"
    );
    assert_eq!(
        counts(&after),
        (0, 0),
        "the decoration after the failure was never built"
    );
    assert!(service.clients().is_empty());
    assert_eq!(observer.0.load(Ordering::SeqCst), 0);
}

#[test]
fn a_failing_operation_decoration_frees_the_client_for_another_operation() {
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut builder = builder();
    let f = fail.clone();
    builder.decorate_operation_context(move |_| {
        if f.load(Ordering::SeqCst) {
            Err(Status::new(ErrorCode::InternalError, "no"))
        } else {
            Ok(())
        }
    });
    let service = builder.build().unwrap();
    let mut client = service.make_client("c", None).unwrap();
    assert_eq!(
        client.make_operation_context().unwrap_err().code(),
        ErrorCode::InternalError
    );
    assert_eq!(service.operation_count(), 0);
    fail.store(false, Ordering::SeqCst);
    assert!(client.make_operation_context().is_ok());
}

#[test]
fn a_failing_service_decoration_fails_the_build() {
    let mut builder = builder();
    builder.decorate_service_context(|_| Err::<u8, _>(Status::new(ErrorCode::BadValue, "bad config")));
    assert_eq!(builder.build().unwrap_err().code(), ErrorCode::BadValue);
}

#[test]
fn over_aligned_decorations_are_aligned_and_intact() {
    #[repr(align(64))]
    struct CacheLine(u64);
    #[repr(align(4096))]
    struct Page([u8; 16]);
    let mut builder = builder();
    let byte = builder.decorate_client(|_| Ok(7u8));
    let line = builder.decorate_client(|_| Ok(CacheLine(0xfeed)));
    let page = builder.decorate_client(|_| Ok(Page([3; 16])));
    let service = builder.build().unwrap();
    for _ in 0..3 {
        let client = service.make_client("c", None).unwrap();
        assert_eq!(*client.decoration(byte).unwrap(), 7);
        let line = client.decoration(line).unwrap();
        assert_eq!(std::ptr::from_ref(line).addr() % 64, 0);
        assert_eq!(line.0, 0xfeed);
        let page = client.decoration(page).unwrap();
        assert_eq!(std::ptr::from_ref(page).addr() % 4096, 0);
        assert_eq!(page.0, [3; 16]);
    }
}

#[test]
fn decorations_find_their_owner() {
    let mut builder = builder();
    let on_service = builder.decorate_service_context(|owner: &WeakServiceContext| Ok(owner.clone()));
    let on_client = builder.decorate_client(|owner: &Weak<Client>| Ok(owner.clone()));
    let on_op = builder.decorate_operation_context(|owner: &Arc<OperationHandle>| Ok(Arc::downgrade(owner)));
    let service = builder.build().unwrap();
    let owner = service.decoration(on_service).unwrap().upgrade().unwrap();
    assert!(owner.ptr_eq(&service));
    let mut client = service.make_client("c", None).unwrap();
    let owner = client.decoration(on_client).unwrap().upgrade().unwrap();
    assert!(Arc::ptr_eq(&owner, client.client()));
    let op = client.make_operation_context().unwrap();
    assert_eq!(op.decoration(on_op).unwrap().upgrade().unwrap().id(), op.id());
}

#[test]
fn each_owner_has_its_own_value() {
    let mut builder = builder();
    let counter = builder.decorate_operation_context(|_| Ok(0u32));
    let service = builder.build().unwrap();
    let mut a = service.make_client("a", None).unwrap();
    let mut b = service.make_client("b", None).unwrap();
    let mut op_a: OperationContext = a.make_operation_context().unwrap();
    let op_b = b.make_operation_context().unwrap();
    *op_a.decoration_mut(counter).unwrap() += 5;
    assert_eq!(op_a.decoration(counter), Some(&5));
    assert_eq!(op_b.decoration(counter), Some(&0));
}

#[test]
fn a_key_from_another_registry_finds_nothing() {
    let mut first = builder();
    let key = first.decorate_client(|_| Ok(1u8));
    let mut second = builder();
    second.decorate_client(|_| Ok(2u8));
    let other = second.build().unwrap();
    let client = other.make_client("c", None).unwrap();
    assert_eq!(client.decoration(key), None);
}

#[test]
fn registries_build_standalone_owners_too() {
    struct Widget;
    impl docwire_service::Decorable for Widget {
        type Link = ();
    }
    let mut registry = DecorationRegistry::<Widget>::new();
    let name = registry.declare(|_| Ok(String::from("w")));
    let hits = registry.declare_default::<u64>();
    let built = registry.build(&()).unwrap();
    assert_eq!(built.len(), 2);
    assert_eq!(built.get(name).map(String::as_str), Some("w"));
    assert_eq!(built.get(hits), Some(&0));
}
