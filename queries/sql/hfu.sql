-- High-frequency use (rules.md §2): counts in the activity window at or above
-- the thresholds of rules.toml [hfu]. Patients with no activity count 0.
SELECT
    *,
    COALESCE(ae_12m >= $hfu_ae_min, false)             AS hfu_ae,
    COALESCE(emergency_adm_12m >= $hfu_adm_min, false) AS hfu_adm,
    COALESCE(gp_attended_12m >= $hfu_gp_min, false)    AS hfu_gp
FROM clinical_areas
