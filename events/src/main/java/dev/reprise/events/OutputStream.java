package dev.reprise.events;

/** Which terminal stream a chunk of output came from. */
public enum OutputStream {
    STDOUT, STDERR
}
