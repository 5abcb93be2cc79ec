-- Deletes quarantined rows of one ETL batch by line (:line_nos is an expanding list).
delete from quarantine
where batch_id = :batch_id
    and line_no in :line_nos
