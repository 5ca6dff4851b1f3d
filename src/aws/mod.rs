//! The adapters to AWS: the shared SDK configuration, call limits, SNS and DynamoDB.

pub mod dynamodb;
pub mod limits;
pub mod setup;
pub mod sns;
