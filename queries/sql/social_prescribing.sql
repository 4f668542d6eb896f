-- Social-prescribing status and eligibility (rules.md §2).
--   sp_referred_12m  a referral code in the last 12 months
--   sp_declined_6m   a declined code in the last 6 months
--   eligible         adult, and neither recently referred nor recently declined
SELECT
    h.*,
    COALESCE(h.sp_referral_last > $sp_referral_since, false) AS sp_referred_12m,
    COALESCE(h.sp_declined_last > $sp_declined_since, false) AS sp_declined_6m,
    h.age >= $adult_age
      AND NOT COALESCE(h.sp_referral_last > $sp_referral_since, false)
      AND NOT COALESCE(h.sp_declined_last > $sp_declined_since, false) AS eligible
FROM hfu h
