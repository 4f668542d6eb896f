-- The patient features table (rules.md §2): one row per patient registered at
-- T, exactly these columns in this order (phm checks them when it opens the
-- rules). need_score, need_reasons and high_need are added from scoring.toml
-- by phm after this query, and phm orders the rows by patient_id: no ORDER BY
-- is needed here.
SELECT
    patient_id, practice_code, pcn_code, icb_code, sex, ethnicity,
    age, imd_decile, imd_quintile,
    core20, plus_ethnic_minority, plus_inclusion_health, plus_learning_disability,
    ltc_count, smi, hypertension, copd_asthma,
    lonely, mental_health, frailty, carer, social_needs, pregnant,
    CAST(COALESCE(ae_12m, 0) AS INT)            AS ae_12m,
    CAST(COALESCE(emergency_adm_12m, 0) AS INT) AS emergency_adm_12m,
    CAST(COALESCE(gp_attended_12m, 0) AS INT)   AS gp_attended_12m,
    hfu_ae, hfu_adm, hfu_gp,
    (hfu_ae OR hfu_adm OR hfu_gp) AS hfu,
    sp_referred_12m, sp_declined_6m, eligible
FROM social_prescribing
