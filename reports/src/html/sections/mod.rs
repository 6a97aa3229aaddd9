//! The sections of the run page, one per part of the results document,
//! each a function of the results that returns its HTML (nothing when the
//! run has none of that part). Load balancers are rows of the services
//! table, CDN edges a table under the caches: that is how the page reads.

mod caches;
mod cdns;
mod cost;
mod databases;
mod endpoints;
mod objectives;
mod queues;
mod services;
mod summary;

pub(crate) use caches::caches;
use cdns::cdns;
pub(crate) use cost::cost;
pub(crate) use databases::databases;
pub(crate) use endpoints::endpoints;
pub(crate) use objectives::objectives;
pub(crate) use queues::queues;
pub(crate) use services::services;
pub(crate) use summary::summary;
