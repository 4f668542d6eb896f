-- Clinical areas and needs (rules.md §2), added to each patient of core20plus.
--   ltc_count      how many of the 13 LTC codelists (hypertension … epilepsy;
--                  copd and asthma separately; anxiety is not one) have any
--                  code ever, plus 1 for smi ever (0–14)
--   lonely, mental_health, frailty, social_needs: a code in the last 24 months
--   pregnant: a pregnancy code in the last 9 months; carer: ever
SELECT
    c.*,
    CAST(
        CASE WHEN c.hypertension_last        IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.diabetes_last            IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.copd_last                IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.asthma_last              IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.chd_last                 IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.heart_failure_last       IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.stroke_tia_last          IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.atrial_fibrillation_last IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.ckd_last                 IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.cancer_last              IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.dementia_last            IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.depression_last          IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.epilepsy_last            IS NOT NULL THEN 1 ELSE 0 END
      + CASE WHEN c.smi_last                 IS NOT NULL THEN 1 ELSE 0 END
    AS INT) AS ltc_count,
    c.smi_last IS NOT NULL AS smi,
    c.hypertension_last IS NOT NULL AS hypertension,
    (c.copd_last IS NOT NULL OR c.asthma_last IS NOT NULL) AS copd_asthma,
    COALESCE(c.loneliness_last > $lonely_since, false) AS lonely,
    COALESCE(c.depression_last > $mental_health_since
          OR c.anxiety_last > $mental_health_since, false) AS mental_health,
    COALESCE(c.frailty_last > $frailty_since, false) AS frailty,
    c.carer_last IS NOT NULL AS carer,
    COALESCE(c.social_needs_last > $social_needs_since, false) AS social_needs,
    COALESCE(c.pregnancy_last > $pregnant_since, false) AS pregnant
FROM core20plus c
