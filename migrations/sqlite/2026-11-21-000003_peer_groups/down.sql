DROP TABLE peer_groups;
