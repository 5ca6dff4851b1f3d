//! The adapters to AWS: the shared SDK configuration, call limits, SNS (through the Query
//! protocol), the state table on DynamoDB and the hold queue on SQS.

pub mod hold_queue;
pub mod limits;
pub mod query;
pub mod setup;
pub mod sigv4;
pub mod sns;
pub mod state_table;
