//! Data in other layouts converted to a phm extract (extract.md), so that
//! every command runs on it unchanged: `omop` reads an OMOP CDM.

pub mod omop;
