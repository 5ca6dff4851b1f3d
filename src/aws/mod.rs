//! The adapters to AWS: the shared SDK configuration, call limits, SNS, the state table
//! on DynamoDB and the hold queue on SQS.

pub mod hold_queue;
pub mod limits;
pub mod setup;
pub mod sns;
pub mod state_table;
