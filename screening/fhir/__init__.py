"""FHIR R4 for the screening domain: what the product says in FHIR, in one place.

- `codes`: the code lists (LOINC, UCUM, HL7 terminology, the product's own code systems and
  canonical URLs) every FHIR door shares: the bundle export, the intake Questionnaire and, later,
  the EHR integration (CDS Hooks cards, prefilling from FHIR).
- `hygiene`: the JSON rules real validators enforce and the HL7 JSON schema does not (no empty
  arrays/objects/strings, no nulls, `fullUrl` matching its resource, valid dates), as one pass
  applied to everything emitted, and a checker that lists what breaks them.
- `questionnaire`: the intake form as a Questionnaire, generated from the form's own fields, and
  the mapping between facts documents and QuestionnaireResponse items (both directions).
- `narrative`: generated `text` for every resource.
- `bundle`: a stored screening as a Bundle (collection).
"""
