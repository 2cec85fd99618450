import CountPeople
import MSCRMain

// Serves the functions in $MSCR_FUNCTIONS (./functions) on $PORT, like `mscr serve`, with
// CountPeople registered under its kind.
try await MSCR.serve(functions: [CountPeople.self])
