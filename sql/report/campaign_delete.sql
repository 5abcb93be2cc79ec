-- Remove one recorded campaign and its members (make campaign REPLACE=1), inside the
-- transaction that records its replacement. On Spark its batch is dropped instead.
delete from campaign_members where campaign_id = :campaign_id;
delete from campaigns where campaign_id = :campaign_id
