-- First start of the compose PostgreSQL: the tracker store's database next to the application's.
CREATE DATABASE rasa OWNER bot;
