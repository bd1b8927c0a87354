//! `ErrorCode`: mongod's error numbers and their codeNames (base/error_codes.yml).

use std::fmt;

/// Declares the named codes once and derives the number <-> name tables from that list.
macro_rules! error_codes {
    ($($name:ident = $num:literal,)*) => {
        /// A mongod error code: a named one from error_codes.yml, or any other number (an assertion
        /// location such as 40430, or a code an upstream server sent that this build does not name).
        #[derive(Clone, Copy)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                #[doc = concat!("mongod's `", stringify!($name), "` (", stringify!($num), ").")]
                $name,
            )*
            /// A code without a name here; its codeName is `Location<N>`, as mongod names assertion codes.
            Location(i32),
        }

        impl ErrorCode {
            /// The number on the wire (`code`).
            pub const fn code(self) -> i32 {
                match self {
                    $(ErrorCode::$name => $num,)*
                    ErrorCode::Location(n) => n,
                }
            }

            /// The code for a number; named when mongod names it, else `Location(n)`.
            pub const fn from_code(code: i32) -> ErrorCode {
                match code {
                    $($num => ErrorCode::$name,)*
                    n => ErrorCode::Location(n),
                }
            }

            /// The `codeName` mongod reports, or `None` for an unnamed code (see [`ErrorCode::code_name`]).
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(ErrorCode::$name => Some(stringify!($name)),)*
                    ErrorCode::Location(_) => None,
                }
            }

            /// Every named code, in numeric order.
            pub const ALL_NAMED: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];
        }
    };
}

error_codes! {
    OK = 0,
    InternalError = 1,
    BadValue = 2,
    NoSuchKey = 4,
    GraphContainsCycle = 5,
    HostUnreachable = 6,
    HostNotFound = 7,
    UnknownError = 8,
    FailedToParse = 9,
    CannotMutateObject = 10,
    UserNotFound = 11,
    UnsupportedFormat = 12,
    Unauthorized = 13,
    TypeMismatch = 14,
    Overflow = 15,
    InvalidLength = 16,
    ProtocolError = 17,
    AuthenticationFailed = 18,
    CannotReuseObject = 19,
    IllegalOperation = 20,
    EmptyArrayOperation = 21,
    InvalidBSON = 22,
    AlreadyInitialized = 23,
    LockTimeout = 24,
    RemoteValidationError = 25,
    NamespaceNotFound = 26,
    IndexNotFound = 27,
    PathNotViable = 28,
    NonExistentPath = 29,
    InvalidPath = 30,
    RoleNotFound = 31,
    RolesNotRelated = 32,
    PrivilegeNotFound = 33,
    CannotBackfillArray = 34,
    UserModificationFailed = 35,
    RemoteChangeDetected = 36,
    FileRenameFailed = 37,
    FileNotOpen = 38,
    FileStreamFailed = 39,
    ConflictingUpdateOperators = 40,
    FileAlreadyOpen = 41,
    LogWriteFailed = 42,
    CursorNotFound = 43,
    UserDataInconsistent = 45,
    LockBusy = 46,
    NoMatchingDocument = 47,
    NamespaceExists = 48,
    InvalidRoleModification = 49,
    MaxTimeMSExpired = 50,
    ManualInterventionRequired = 51,
    DollarPrefixedFieldName = 52,
    InvalidIdField = 53,
    NotSingleValueField = 54,
    InvalidDBRef = 55,
    EmptyFieldName = 56,
    DottedFieldName = 57,
    RoleModificationFailed = 58,
    CommandNotFound = 59,
    ShardKeyNotFound = 61,
    OplogOperationUnsupported = 62,
    StaleShardVersion = 63,
    WriteConcernFailed = 64,
    MultipleErrorsOccurred = 65,
    ImmutableField = 66,
    CannotCreateIndex = 67,
    IndexAlreadyExists = 68,
    AuthSchemaIncompatible = 69,
    ShardNotFound = 70,
    ReplicaSetNotFound = 71,
    InvalidOptions = 72,
    InvalidNamespace = 73,
    NodeNotFound = 74,
    WriteConcernLegacyOK = 75,
    NoReplicationEnabled = 76,
    OperationIncomplete = 77,
    CommandResultSchemaViolation = 78,
    UnknownReplWriteConcern = 79,
    RoleDataInconsistent = 80,
    NoMatchParseContext = 81,
    NoProgressMade = 82,
    RemoteResultsUnavailable = 83,
    IndexOptionsConflict = 85,
    IndexKeySpecsConflict = 86,
    CannotSplit = 87,
    NetworkTimeout = 89,
    CallbackCanceled = 90,
    ShutdownInProgress = 91,
    SecondaryAheadOfPrimary = 92,
    InvalidReplicaSetConfig = 93,
    NotYetInitialized = 94,
    NotSecondary = 95,
    OperationFailed = 96,
    NoProjectionFound = 97,
    DBPathInUse = 98,
    UnsatisfiableWriteConcern = 100,
    OutdatedClient = 101,
    IncompatibleAuditMetadata = 102,
    NewReplicaSetConfigurationIncompatible = 103,
    NodeNotElectable = 104,
    IncompatibleShardingMetadata = 105,
    DistributedClockSkewed = 106,
    LockFailed = 107,
    InconsistentReplicaSetNames = 108,
    ConfigurationInProgress = 109,
    CannotInitializeNodeWithData = 110,
    NotExactValueField = 111,
    WriteConflict = 112,
    InitialSyncFailure = 113,
    InitialSyncOplogSourceMissing = 114,
    CommandNotSupported = 115,
    DocTooLargeForCapped = 116,
    ConflictingOperationInProgress = 117,
    NamespaceNotSharded = 118,
    InvalidSyncSource = 119,
    OplogStartMissing = 120,
    DocumentValidationFailure = 121,
    NotAReplicaSet = 123,
    IncompatibleElectionProtocol = 124,
    CommandFailed = 125,
    RPCProtocolNegotiationFailed = 126,
    UnrecoverableRollbackError = 127,
    LockNotFound = 128,
    LockStateChangeFailed = 129,
    SymbolNotFound = 130,
    FailedToSatisfyReadPreference = 133,
    ReadConcernMajorityNotAvailableYet = 134,
    StaleTerm = 135,
    CappedPositionLost = 136,
    IncompatibleShardingConfigVersion = 137,
    RemoteOplogStale = 138,
    JSInterpreterFailure = 139,
    InvalidSSLConfiguration = 140,
    SSLHandshakeFailed = 141,
    JSUncatchableError = 142,
    CursorInUse = 143,
    IncompatibleCatalogManager = 144,
    PooledConnectionsDropped = 145,
    ExceededMemoryLimit = 146,
    ZLibError = 147,
    ReadConcernMajorityNotEnabled = 148,
    NoConfigPrimary = 149,
    StaleEpoch = 150,
    OperationCannotBeBatched = 151,
    OplogOutOfOrder = 152,
    ChunkTooBig = 153,
    InconsistentShardIdentity = 154,
    CannotApplyOplogWhilePrimary = 155,
    CanRepairToDowngrade = 157,
    MustUpgrade = 158,
    DurationOverflow = 159,
    MaxStalenessOutOfRange = 160,
    IncompatibleCollationVersion = 161,
    CollectionIsEmpty = 162,
    ZoneStillInUse = 163,
    InitialSyncActive = 164,
    ViewDepthLimitExceeded = 165,
    CommandNotSupportedOnView = 166,
    OptionNotSupportedOnView = 167,
    InvalidPipelineOperator = 168,
    CommandOnShardedViewNotSupportedOnMongod = 169,
    TooManyMatchingDocuments = 170,
    CannotIndexParallelArrays = 171,
    TransportSessionClosed = 172,
    TransportSessionNotFound = 173,
    TransportSessionUnknown = 174,
    QueryPlanKilled = 175,
    FileOpenFailed = 176,
    ZoneNotFound = 177,
    RangeOverlapConflict = 178,
    AmbiguousIndexKeyPattern = 181,
    InvalidViewDefinition = 182,
    ClientMetadataMissingField = 183,
    ClientMetadataAppNameTooLarge = 184,
    ClientMetadataDocumentTooLarge = 185,
    ClientMetadataCannotBeMutated = 186,
    LinearizableReadConcernError = 187,
    IncompatibleServerVersion = 188,
    PrimarySteppedDown = 189,
    FailPointEnabled = 192,
    NoShardingEnabled = 193,
    BalancerInterrupted = 194,
    ViewPipelineMaxSizeExceeded = 195,
    InvalidIndexSpecificationOption = 197,
    ReplicaSetMonitorRemoved = 199,
    ChunkRangeCleanupPending = 200,
    CannotBuildIndexKeys = 201,
    NetworkInterfaceExceededTimeLimit = 202,
    ShardingStateNotInitialized = 203,
    TimeProofMismatch = 204,
    ClusterTimeFailsRateLimiter = 205,
    NoSuchSession = 206,
    InvalidUUID = 207,
    TooManyLocks = 208,
    StaleClusterTime = 209,
    CannotVerifyAndSignLogicalTime = 210,
    KeyNotFound = 211,
    IncompatibleRollbackAlgorithm = 212,
    DuplicateSession = 213,
    AuthenticationRestrictionUnmet = 214,
    DatabaseDropPending = 215,
    ElectionInProgress = 216,
    IncompleteTransactionHistory = 217,
    UpdateOperationFailed = 218,
    IndexModified = 221,
    CloseChangeStream = 222,
    IllegalOpMsgFlag = 223,
    QueryFeatureNotAllowed = 224,
    TransactionTooOld = 225,
    AtomicityFailure = 226,
    CannotImplicitlyCreateCollection = 227,
    SessionTransferIncomplete = 228,
    MustDowngrade = 229,
    DNSHostNotFound = 230,
    DNSProtocolError = 231,
    MaxSubPipelineDepthExceeded = 232,
    TooManyDocumentSequences = 233,
    RetryChangeStream = 234,
    InternalErrorNotSupported = 235,
    CursorKilled = 237,
    NotImplemented = 238,
    SnapshotTooOld = 239,
    DNSRecordTypeMismatch = 240,
    ConversionFailure = 241,
    CannotCreateCollection = 242,
    IncompatibleWithUpgradedServer = 243,
    BrokenPromise = 245,
    SnapshotUnavailable = 246,
    ProducerConsumerQueueBatchTooLarge = 247,
    ProducerConsumerQueueEndClosed = 248,
    StaleDbVersion = 249,
    StaleChunkHistory = 250,
    NoSuchTransaction = 251,
    ReentrancyNotAllowed = 252,
    TransactionCommitted = 256,
    TransactionTooLarge = 257,
    UnknownFeatureCompatibilityVersion = 258,
    KeyedExecutorRetry = 259,
    InvalidResumeToken = 260,
    TooManyLogicalSessions = 261,
    ExceededTimeLimit = 262,
    OperationNotSupportedInTransaction = 263,
    TooManyFilesOpen = 264,
    OrphanedRangeCleanUpFailed = 265,
    FailPointSetFailed = 266,
    PreparedTransactionInProgress = 267,
    CannotBackup = 268,
    DataModifiedByRepair = 269,
    RepairedReplicaSetNode = 270,
    JSInterpreterFailureWithStack = 271,
    MigrationConflict = 272,
    ProducerConsumerQueueProducerQueueDepthExceeded = 273,
    ProducerConsumerQueueConsumed = 274,
    ExchangePassthrough = 275,
    IndexBuildAborted = 276,
    AlreadyInitializedInternal = 277,
    CannotUpgrade = 278,
    ClientDisconnect = 279,
    ChangeStreamFatalError = 280,
    TransactionCoordinatorSteppingDown = 281,
    TransactionCoordinatorReachedAbortDecision = 282,
    WouldChangeOwningShard = 283,
    ForTestingErrorExtraInfoWithExtraInfoInNamespace = 284,
    IndexBuildAlreadyInProgress = 285,
    ChangeStreamHistoryLost = 286,
    TransactionCoordinatorDeadlineTaskCanceled = 287,
    ChecksumMismatch = 288,
    WaitForMajorityServiceEarlierOpTimeAvailable = 289,
    TransactionExceededLifetimeLimitSeconds = 290,
    NoQueryExecutionPlans = 291,
    QueryExceededMemoryLimitNoDiskUseAllowed = 292,
    InvalidSeedList = 293,
    InvalidTopologyType = 294,
    InvalidHeartBeatFrequency = 295,
    TopologySetNameRequired = 296,
    HierarchicalAcquisitionLevelViolation = 297,
    InvalidServerType = 298,
    OCSPCertificateStatusRevoked = 299,
    RangeDeletionAbandonedBecauseCollectionWithUUIDDoesNotExist = 300,
    DataCorruptionDetected = 301,
    OCSPCertificateStatusUnknown = 302,
    SplitHorizonChange = 303,
    ShardInvalidatedForTargeting = 304,
    ReadThroughCacheLookupCanceled = 306,
    RangeDeletionAbandonedBecauseTaskDocumentDoesNotExist = 307,
    CurrentConfigNotCommittedYet = 308,
    ExhaustCommandFinished = 309,
    PeriodicJobIsStopped = 310,
    TransactionCoordinatorCanceled = 311,
    OperationIsKilledAndDelisted = 312,
    ResumableRangeDeleterDisabled = 313,
    ObjectIsBusy = 314,
    TooStaleToSyncFromSource = 315,
    QueryTrialRunCompleted = 316,
    ConnectionPoolExpired = 317,
    ForTestingOptionalErrorExtraInfo = 318,
    MovePrimaryInProgress = 319,
    TenantMigrationConflict = 320,
    TenantMigrationCommitted = 321,
    APIVersionError = 322,
    APIStrictError = 323,
    APIDeprecationError = 324,
    TenantMigrationAborted = 325,
    OplogQueryMinTsMissing = 326,
    NoSuchTenantMigration = 327,
    TenantMigrationAccessBlockerShuttingDown = 328,
    TenantMigrationInProgress = 329,
    SkipCommandExecution = 330,
    FailedToRunWithReplyBuilder = 331,
    CannotDowngrade = 332,
    ServiceExecutorInShutdown = 333,
    MechanismUnavailable = 334,
    TenantMigrationForgotten = 335,
    TimeseriesBucketCleared = 336,
    AuthenticationAbandoned = 337,
    ReshardCollectionInProgress = 338,
    NoSuchReshardCollection = 339,
    ReshardCollectionCommitted = 340,
    ReshardCollectionAborted = 341,
    ReshardingCriticalSectionTimeout = 342,
    ShardCannotRefreshDueToLocksHeld = 343,
    AuditingNotEnabled = 344,
    RuntimeAuditConfigurationNotEnabled = 345,
    ChangeStreamInvalidated = 346,
    APIMismatchError = 347,
    ChangeStreamTopologyChange = 348,
    KeyPatternShorterThanBound = 349,
    ReshardCollectionTruncatedError = 350,
    UnsupportedOpQueryCommand = 352,
    InvalidTenantId = 353,
    InvalidOptionsUnsupported = 354,
    TenantDatabaseDropPending = 355,
    ConnectionError = 384,
    ReauthenticationRequired = 391,
    PooledConnectionAcquisitionExceededTimeLimit = 407,
    PooledConnectionAcquisitionRejected = 450,
    SocketException = 9001,
    CannotGrowDocumentInCappedNamespace = 10003,
    NotWritablePrimary = 10107,
    BSONObjectTooLarge = 10334,
    DuplicateKey = 11000,
    InterruptedAtShutdown = 11600,
    Interrupted = 11601,
    InterruptedDueToReplStateChange = 11602,
    BackgroundOperationInProgressForDatabase = 12586,
    BackgroundOperationInProgressForNamespace = 12587,
    MergeStageNoMatchingDocument = 13113,
    DatabaseDifferCase = 13297,
    StaleConfig = 13388,
    NotPrimaryNoSecondaryOk = 13435,
    NotPrimaryOrSecondary = 13436,
    OutOfDiskSpace = 14031,
    ClientMarkedKilled = 46841,
}

impl ErrorCode {
    /// The `codeName` field of an error reply: the name, or `Location<N>` for an unnamed code.
    pub fn code_name(self) -> String {
        match self.name() {
            Some(name) => name.to_owned(),
            None => format!("Location{}", self.code()),
        }
    }

    /// Whether this error means the server is going away or stepping down (drivers mark it unknown).
    pub fn is_shutdown_error(self) -> bool {
        matches!(
            self,
            ErrorCode::ShutdownInProgress | ErrorCode::InterruptedAtShutdown
        )
    }

    /// Whether this is an interruption (kill, shutdown, step-down, deadline), mongod's `isInterruption`.
    pub fn is_interruption(self) -> bool {
        matches!(
            self,
            ErrorCode::Interrupted
                | ErrorCode::InterruptedAtShutdown
                | ErrorCode::InterruptedDueToReplStateChange
                | ErrorCode::ExceededTimeLimit
                | ErrorCode::MaxTimeMSExpired
                | ErrorCode::CursorKilled
                | ErrorCode::ClientDisconnect
                | ErrorCode::ClientMarkedKilled
        )
    }

    /// Whether this is a network error as mongod classifies them (`isNetworkError`).
    pub fn is_network_error(self) -> bool {
        matches!(
            self,
            ErrorCode::HostUnreachable
                | ErrorCode::HostNotFound
                | ErrorCode::NetworkTimeout
                | ErrorCode::SocketException
                | ErrorCode::ConnectionError
        )
    }
}

// Equality is by number, so `Location(11000)` and `DuplicateKey` are the same code.
impl PartialEq for ErrorCode {
    fn eq(&self, other: &Self) -> bool {
        self.code() == other.code()
    }
}

impl Eq for ErrorCode {}

impl std::hash::Hash for ErrorCode {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.code().hash(state);
    }
}

impl From<i32> for ErrorCode {
    fn from(code: i32) -> Self {
        ErrorCode::from_code(code)
    }
}

impl From<ErrorCode> for i32 {
    fn from(code: ErrorCode) -> Self {
        code.code()
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.code_name(), self.code())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_codes_have_mongod_numbers_and_names() {
        let expected = [
            (1, "InternalError"),
            (2, "BadValue"),
            (13, "Unauthorized"),
            (15, "Overflow"),
            (17, "ProtocolError"),
            (22, "InvalidBSON"),
            (43, "CursorNotFound"),
            (50, "MaxTimeMSExpired"),
            (59, "CommandNotFound"),
            (90, "CallbackCanceled"),
            (91, "ShutdownInProgress"),
            (202, "NetworkInterfaceExceededTimeLimit"),
            (223, "IllegalOpMsgFlag"),
            (233, "TooManyDocumentSequences"),
            (262, "ExceededTimeLimit"),
            (279, "ClientDisconnect"),
            (288, "ChecksumMismatch"),
            (312, "OperationIsKilledAndDelisted"),
            (352, "UnsupportedOpQueryCommand"),
            (450, "PooledConnectionAcquisitionRejected"),
            (9001, "SocketException"),
            (10107, "NotWritablePrimary"),
            (11000, "DuplicateKey"),
            (11600, "InterruptedAtShutdown"),
            (46841, "ClientMarkedKilled"),
        ];
        for (num, name) in expected {
            let code = ErrorCode::from_code(num);
            assert_eq!(code.code(), num);
            assert_eq!(code.code_name(), name);
        }
    }

    #[test]
    fn unnamed_codes_are_locations() {
        let code = ErrorCode::from_code(40430);
        assert_eq!(code, ErrorCode::Location(40430));
        assert_eq!(code.code_name(), "Location40430");
    }

    #[test]
    fn named_codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL_NAMED {
            assert!(seen.insert(code.code()), "duplicate number {}", code.code());
            assert_eq!(ErrorCode::from_code(code.code()), code);
        }
    }
}
