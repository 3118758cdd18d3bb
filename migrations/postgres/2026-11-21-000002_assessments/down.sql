DROP TABLE scores;
DROP TABLE assessments;
DROP TABLE rounds;
DROP TABLE frameworks;
