"""EHR integration: FHIR data into facts (`mapping`), intakes prefilled from FHIR."""
